import { read } from './markdown';

// The README is the registry page: short (≤ 20 KB), the two quick-start commands, and snippets that
// are run as tests elsewhere stay identical to what runs.
const readme = read('README.md');

function tsBlockUnder(markdown: string, heading: string): string {
  const section = markdown.split(`\n## ${heading}\n`)[1] ?? '';
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  if (!match?.[1]) throw new Error(`no ts block under "## ${heading}"`);
  return match[1];
}

test('the README stays at most 20 KB', () => {
  expect(Buffer.byteLength(readme)).toBeLessThanOrEqual(20 * 1024);
});

test('the quick start names the two commands', () => {
  const quickStart = readme.split('\n## Quick start\n')[1]?.split('\n## ')[0] ?? '';
  expect(quickStart).toContain('npm ci && npm start');
  expect(quickStart).toContain('npm test ');
});

test('the README has the sections a newcomer needs, each linked from its contents line', () => {
  const headings = [...readme.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
  expect(headings).toEqual(['Quick start', 'Install', 'A complete app', 'Concepts', 'Before you deploy', 'The example app', 'Guides', 'Standards and conformance', 'Security', 'Project']);
  const contents = readme.split('\n**Contents:**')[1]?.split('\n\n')[0] ?? '';
  expect([...contents.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1])).toEqual(headings.map((h) => h!.toLowerCase().replace(/ /g, '-')));
});

test('the "Testing your app" example of docs/testing.md is the one test/testing/kit.test.ts runs', () => {
  const source = read('test/testing/kit.test.ts');
  const ran = source.split('// README:testing-your-app:start\n')[1]?.split('// README:testing-your-app:end')[0];
  expect(ran).toBe(tsBlockUnder(read('docs/testing.md'), 'Testing your app'));
});

test('the TypeScript advice works on TypeScript 7 (no node10 resolution)', () => {
  expect(readme).toContain('"module": "nodenext"');
  expect(readme).not.toMatch(/"moduleResolution": "node(10)?"/);
});
