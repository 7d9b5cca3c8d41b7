import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

// Helpers for the documentation tests: links and headings of the Markdown files, and the files
// `npm pack` would ship (what a user reading node_modules or the registry page can follow).
export const ROOT = path.resolve(__dirname, '../..');
export const REPO_URL = 'https://github.com/express-oauth2-session/express-oauth2-session';

export function read(file: string): string {
  return readFileSync(path.join(ROOT, file), 'utf8');
}

/** The text outside fenced code blocks and inline code spans (links in code are not links). */
export function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
}

/** Every link and image target: `[text](target)`, `![alt](target)` and `<img src="target">`. */
export function linkTargets(markdown: string): string[] {
  const text = prose(markdown);
  const targets = [...text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g), ...text.matchAll(/<img[^>]*\ssrc="([^"]+)"/g)].map((m) => m[1] as string);
  return targets;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors of a Markdown file's headings (outside code blocks). */
export function anchors(markdown: string): Set<string> {
  const withoutCode = markdown.replace(/^```[\s\S]*?^```/gm, '');
  return new Set([...withoutCode.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1] as string)));
}

/** The files `npm pack` ships from this checkout (without building: dist/ is not read here). */
export function packedFiles(): string[] {
  const stdout = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
  const [packed] = JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>;
  return packed!.files.map((f) => f.path).sort();
}

export function exists(file: string): boolean {
  return existsSync(path.join(ROOT, file));
}

/** The cells of the table rows of a Markdown text (`| a | b |` → `['a', 'b']`), header rows included. */
export function tableRows(markdown: string): string[][] {
  return markdown
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|\s*-/.test(line))
    .map((line) =>
      line
        .slice(1, line.endsWith('|') ? -1 : undefined)
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim()),
    );
}
