import { readdirSync } from 'node:fs';
import path from 'node:path';
import { anchors, exists, linkTargets, packedFiles, read, REPO_URL, ROOT } from './markdown';

// Every link and image of the shipped Markdown (README.md and docs/*.md, the files a user reads on
// the registry page or in node_modules) resolves: relative targets to a file in the packed tarball
// (and to a heading there), absolute links into this repository to a file that exists on main.
// The contributor documents (not shipped) must resolve in the repository.
const packed = packedFiles();
const shipped = packed.filter((f) => f.endsWith('.md'));
const contributorDocs = ['ARCHITECTURE.md', 'BENCHMARKS.md', 'CONTRIBUTING.md'];

interface Broken {
  file: string;
  target: string;
  reason: string;
}

function check(file: string, resolvable: (target: string) => boolean): Broken[] {
  const broken: Broken[] = [];
  for (const target of linkTargets(read(file))) {
    if (/^mailto:/.test(target)) continue;
    if (target.startsWith(`${REPO_URL}/`)) {
      const m = /^\/(?:blob|raw)\/main\/([^#?]+)/.exec(target.slice(REPO_URL.length));
      if (m && !exists(m[1]!)) broken.push({ file, target, reason: 'no such file in the repository' });
      continue;
    }
    if (/^[a-z]+:/i.test(target)) continue; // another site
    const [pathPart, anchor] = target.split('#') as [string, string | undefined];
    const resolved = pathPart === '' ? file : path.posix.normalize(path.posix.join(path.posix.dirname(file), pathPart));
    if (!resolvable(resolved)) {
      broken.push({ file, target, reason: 'not resolvable' });
      continue;
    }
    if (anchor !== undefined && resolved.endsWith('.md') && !anchors(read(resolved)).has(anchor)) broken.push({ file, target, reason: 'no such heading' });
  }
  return broken;
}

test('the tarball ships the README, every guide in docs/, SECURITY, CHANGELOG and LICENSE', () => {
  const guides = readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`);
  expect(guides.length).toBeGreaterThanOrEqual(12);
  expect(packed.filter((f) => !f.startsWith('dist/'))).toEqual(['CHANGELOG.md', 'LICENSE', 'README.md', 'SECURITY.md', ...guides, 'package.json'].sort());
});

test.each(['README.md', ...shipped.filter((f) => f !== 'README.md')])('every link and image in %s resolves from the packed tarball', (file) => {
  expect(check(file, (target) => packed.includes(target))).toEqual([]);
});

test.each(contributorDocs)('every link in %s resolves in the repository', (file) => {
  expect(check(file, exists)).toEqual([]);
});

test('the README links every guide in docs/', () => {
  const linked = new Set(linkTargets(read('README.md')).map((t) => t.split('#')[0]));
  const guides = shipped.filter((f) => f.startsWith('docs/'));
  expect(guides.filter((g) => !linked.has(g))).toEqual([]);
});

test('images are absolute URLs (the screenshots are not in the tarball)', () => {
  const images = [...read('README.md').matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]!);
  expect(images.length).toBeGreaterThan(0);
  expect(images.filter((src) => !src.startsWith(`${REPO_URL}/raw/main/`))).toEqual([]);
});
