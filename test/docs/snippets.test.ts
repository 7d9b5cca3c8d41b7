import path from 'node:path';
import ts from 'typescript';
import { read, ROOT } from './markdown';

// The complete programs the documentation shows are type-checked as written, against the library's
// source (the repo's tsconfig, strict): the README's "A complete app" and the development server of
// docs/testing.md. Fragments (a line or two with names defined elsewhere) are not programs.
function tsBlock(markdown: string, heading: string): string {
  const section = markdown.split(new RegExp(`\\n#{2,3} ${heading.replace(/[()`]/g, '\\$&')}\\n`))[1] ?? '';
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  if (!match?.[1]) throw new Error(`no ts block under "${heading}"`);
  return match[1];
}

const snippets: Record<string, string> = {
  [path.join(ROOT, 'test/docs/__readme-complete-app.ts')]: tsBlock(read('README.md'), 'A complete app'),
  [path.join(ROOT, 'test/docs/__testing-dev-server.mts')]: tsBlock(read('docs/testing.md'), 'Developing against the test kit'),
};

function diagnostics(): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
  if (!config) throw new Error('cannot read tsconfig.json');
  const options = { ...config.options, noEmit: true, types: ['node'] };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (file) => file in snippets || fileExists.call(host, file);
  host.readFile = (file) => snippets[file] ?? readFile.call(host, file);
  host.getSourceFile = (file, language, ...rest) => (file in snippets ? ts.createSourceFile(file, snippets[file]!, language, true) : getSourceFile.call(host, file, language, ...rest));
  const program = ts.createProgram(Object.keys(snippets), options, host);
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file && d.file.fileName in snippets)
    .map((d) => `${path.basename(d.file!.fileName)}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
}

test('the complete programs of the README and docs/testing.md type-check as written', () => {
  expect(Object.values(snippets).every((code) => code.includes("from 'express-oauth2-session'"))).toBe(true);
  expect(diagnostics()).toEqual([]);
}, 60_000);
