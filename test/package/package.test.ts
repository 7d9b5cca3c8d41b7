import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// Builds the package into a throwaway consumer project (<tmp>/node_modules/express-oauth2-session,
// with package.json and its "exports" map) and uses it the way a consumer does: CommonJS require,
// ESM import, and a TypeScript compile that sees req.oauth typed by the import alone.
const root = path.resolve(__dirname, '../..');
let consumer: string;
const run = (args: string[]) => execFileSync(process.execPath, args, { cwd: consumer, encoding: 'utf8' });

beforeAll(() => {
  consumer = mkdtempSync(path.join(os.tmpdir(), 'eos-consumer-'));
  const modules = path.join(consumer, 'node_modules');
  const pkg = path.join(modules, 'express-oauth2-session');
  mkdirSync(pkg, { recursive: true });
  for (const name of readdirSync(path.join(root, 'node_modules'))) {
    if (name.startsWith('.')) continue;
    symlinkSync(path.join(root, 'node_modules', name), path.join(modules, name));
  }
  copyFileSync(path.join(root, 'package.json'), path.join(pkg, 'package.json'));
  execFileSync(process.execPath, [path.join(root, 'scripts/build.mjs'), '--out', path.join(pkg, 'dist')], { stdio: 'pipe' });
  cpSync(path.join(__dirname, 'consumer'), consumer, { recursive: true });
}, 120_000);

afterAll(() => {
  rmSync(consumer, { recursive: true, force: true });
});

describe('published package', () => {
  it('should load through require() with the public runtime exports', () => {
    const names: string[] = JSON.parse(run(['-e', "console.log(JSON.stringify(Object.keys(require('express-oauth2-session')).sort()))"]));
    expect(names).toEqual(expect.arrayContaining(['oauthMiddleware', 'requireAuth', 'oauthErrorHandler', 'OAuthError', 'isOAuthError', 'OAUTH_CODES']));
  });

  it('should load through import with the same module instance as require()', () => {
    const out = run([
      '--input-type=module',
      '-e',
      "import { OAuthError } from 'express-oauth2-session'; import { createRequire } from 'node:module'; const cjs = createRequire(import.meta.url)('express-oauth2-session'); console.log(String(OAuthError === cjs.OAuthError))",
    ]);
    expect(out.trim()).toBe('true');
  });

  it('should ship the testing kit: its provider process starts from the built package', () => {
    const out = run([
      '-e',
      "require('express-oauth2-session/testing').startTestProvider().then(async (p) => { const d = await (await fetch(p.issuer + '/.well-known/openid-configuration')).json(); console.log(d.issuer === p.issuer); await p.stop(); })",
    ]);
    expect(out.trim()).toBe('true');
  }, 60_000);

  it('should type req.oauth for a consumer that only imports the package', () => {
    const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
    expect(() => run([tsc, '-p', 'tsconfig.json'])).not.toThrow();
  }, 60_000);
});
