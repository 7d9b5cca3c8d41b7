import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { createConsumer, createWorkDir, packPackage, ROOT, runScript, typeCheck, type PackedPackage } from './consumer-project';

// The package as npm ships it (`npm pack` of a fresh build), installed from its tarball into three
// consumer projects outside the repo, each type-checked with skipLibCheck off and run:
//   express4: Express 4.21 + @types/express 4.17, an ES module project ("type": "module", NodeNext:
//             the ESM types, dist/esm/*.d.mts), `import` at run time
//   express5: Express 5 + @types/express 5, NodeNext in a CommonJS project, `require` at run time
//   commonjs: the README's CommonJS advice ("module": "nodenext", no "type") on TypeScript 5 (this
//             repo's) and 7 (installed in the project, as `npm i -D typescript` does now), plus
//             "moduleResolution": "node10" on TypeScript 5 (typesVersions); the testing kit and its provider
const SESSION_TYPES = ['express-session@^1.18', '@types/express-session@^1.18', '@types/node@^20'];
const PROJECTS = {
  express4: ['express@4.21.2', '@types/express@~4.17.21', ...SESSION_TYPES],
  express5: ['express@^5', '@types/express@^5', ...SESSION_TYPES],
  commonjs: ['express@^4.21', '@types/express@~4.17.21', 'oidc-provider@^9', 'typescript@^7', ...SESSION_TYPES],
};
const TYPES: Partial<Record<keyof typeof PROJECTS, 'module'>> = { express4: 'module' };
type ProjectName = keyof typeof PROJECTS;

let workDir: string;
let packed: PackedPackage;
const projects = {} as Record<ProjectName, string>;
/** The three consumer type-checks, started together once the projects exist (each test awaits its own). */
const typeChecks = {} as Record<ProjectName, Promise<string>>;

beforeAll(async () => {
  workDir = createWorkDir();
  packed = await packPackage(workDir);
  const names = Object.keys(PROJECTS) as ProjectName[];
  const dirs = await Promise.all(names.map((name) => createConsumer(workDir, packed, { name, dependencies: PROJECTS[name], ...(TYPES[name] ? { type: TYPES[name] } : {}) })));
  names.forEach((name, i) => (projects[name] = dirs[i]!));
  for (const name of names) typeChecks[name] = typeCheck(projects[name]);
}, 240_000);

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('should ship dist, the README and its guides, SECURITY, CHANGELOG, LICENSE and package.json only, with no TypeScript sources', () => {
    const outside = packed.files.filter((f) => !f.startsWith('dist/'));
    expect(outside.filter((f) => !/^docs\/[\w-]+\.md$/.test(f))).toEqual(['CHANGELOG.md', 'LICENSE', 'README.md', 'SECURITY.md', 'package.json']);
    expect(outside).toEqual(expect.arrayContaining(['docs/configuration.md', 'docs/errors.md']));
    expect(packed.files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(packed.files).toEqual(
      expect.arrayContaining([
        'dist/cjs/index.js',
        'dist/cjs/index.d.ts',
        'dist/esm/index.mjs',
        'dist/esm/index.d.mts',
        'dist/cjs/testing/index.d.ts',
        'dist/esm/testing/index.mjs',
        'dist/esm/testing/index.d.mts',
        'dist/cjs/testing/provider.mjs',
      ]),
    );
  });

  it('should carry the sources inside every source map (lib/ is not shipped)', () => {
    const installed = path.join(projects.express5, 'node_modules/express-oauth2-session');
    const maps = packed.files.filter((f) => f.endsWith('.js.map'));
    const incomplete = maps.filter((f) => {
      const map = JSON.parse(readFileSync(path.join(installed, f), 'utf8')) as { sources: string[]; sourcesContent?: unknown[] };
      return map.sourcesContent?.length !== map.sources.length || map.sourcesContent.some((c) => typeof c !== 'string');
    });
    expect(maps.length).toBe(packed.files.filter((f) => f.endsWith('.js')).length);
    expect(incomplete).toEqual([]);
  });

  it('should declare Node ≥ 20.18.1, optional Express peers and typesVersions for the testing subpath', () => {
    const pkg = JSON.parse(readFileSync(path.join(projects.express5, 'node_modules/express-oauth2-session/package.json'), 'utf8'));
    expect(pkg.engines).toEqual({ node: '>=20.18.1' });
    expect(pkg.typesVersions).toEqual({ '*': { testing: ['./dist/cjs/testing/index.d.ts'] } });
    expect(
      Object.keys(pkg.peerDependenciesMeta)
        .filter((name) => pkg.peerDependenciesMeta[name].optional)
        .sort(),
    ).toEqual(['@opentelemetry/api', '@types/express', '@types/express-session', 'express', 'ioredis', 'oidc-provider', 'redis']);
    expect(pkg.peerDependencies['express-session']).toBe('^1.17');
    expect([pkg.repository, pkg.homepage, pkg.bugs, pkg.license]).toEqual([
      { type: 'git', url: 'git+https://github.com/express-oauth2-session/express-oauth2-session.git' },
      'https://github.com/express-oauth2-session/express-oauth2-session#readme',
      { url: 'https://github.com/express-oauth2-session/express-oauth2-session/issues' },
      'MIT',
    ]);
    expect(readFileSync(path.join(ROOT, 'README.md'), 'utf8').match(/Node ≥ \d+(\.\d+)*/g)).toEqual(['Node ≥ 20.18.1']);
  });
});

describe.each(Object.keys(PROJECTS) as ProjectName[])('the %s consumer project', (name) => {
  it('should type-check with skipLibCheck off', async () => {
    expect(await typeChecks[name]).toBe('');
  }, 60_000);
});

describe('the CommonJS advice on TypeScript 5 and 7', () => {
  const ts7 = () => path.join(projects.commonjs, 'node_modules/typescript/bin/tsc');

  it('should install TypeScript 7 in the consumer (what `npm i -D typescript` gives)', () => {
    expect(JSON.parse(readFileSync(path.join(projects.commonjs, 'node_modules/typescript/package.json'), 'utf8')).version).toMatch(/^7\./);
  });

  it('should type-check the "module": "nodenext" project on TypeScript 7', async () => {
    expect(await typeCheck(projects.commonjs, ts7())).toBe('');
  }, 60_000);

  it('should still resolve the package with "moduleResolution": "node10" on TypeScript 5, which TypeScript 7 refuses (TS5108)', async () => {
    const node10 = ['--module', 'commonjs', '--moduleResolution', 'node10'];
    expect(await typeCheck(projects.commonjs, undefined, node10)).toBe('');
    expect(await typeCheck(projects.commonjs, ts7(), node10)).toMatch(/TS5108/);
  }, 60_000);
});

describe('the consumer projects at run time', () => {
  it.each([
    ['express4', 'smoke.mjs', '4'],
    ['express5', 'smoke.cjs', '5'],
  ] as const)(
    'should mount on Express in %s (%s)',
    async (name, script, major) => {
      expect(await runScript(projects[name], script)).toEqual({
        express: major,
        apis: [302, ['https://orders.example/', 'https://billing.example/'], 'form_post'],
        fapi: ['TypeError', 'fapi2.client-auth', true],
        login: [302, 'https://as.example/authorize', 'code'],
        me: [401, 'OAUTH_NOT_AUTHENTICATED'],
        backend: { hasToken: false },
      });
    },
    30_000,
  );

  it('should start the testing kit provider and get a backend token from CommonJS', async () => {
    expect(await runScript(projects.commonjs, 'smoke.cjs')).toEqual({ issuer: true, tokenType: 'bearer', sameInstance: true });
  }, 60_000);
});
