import { readFileSync } from 'node:fs';
import path from 'node:path';

// README snippets that are run as tests elsewhere must stay identical to what runs.
const root = path.resolve(__dirname, '..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');

function readmeBlock(heading: string): string {
  const section = readme.split(`\n## ${heading}\n`)[1] ?? '';
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  if (!match?.[1]) throw new Error(`README has no ts block under "## ${heading}"`);
  return match[1];
}

test('the "Testing your app" example is the one test/testing/kit.test.ts runs', () => {
  const source = readFileSync(path.join(root, 'test/testing/kit.test.ts'), 'utf8');
  const ran = source.split('// README:testing-your-app:start\n')[1]?.split('// README:testing-your-app:end')[0];
  expect(ran).toBe(readmeBlock('Testing your app'));
});

test('the quick start names the two commands', () => {
  expect(readme).toContain('npm ci && npm start');
  expect(readme).toContain('npm test ');
});
