import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { createConsumer, createWorkDir, packPackage, ROOT, runScript, typeCheck, type PackedPackage } from './consumer-project';

// The package as npm ships it (`npm pack` of a fresh build), installed from its tarball into three
// consumer projects outside the repo, each type-checked with skipLibCheck off and run:
//   express4: Express 4.21 + @types/express 4.17, ESM (NodeNext), `import`
//   express5: Express 5 + @types/express 5, ESM types, `require` at run time
//   commonjs: "module": "commonjs", "moduleResolution": "node10", the testing kit and its provider
const SESSION_TYPES = ['express-session@^1.18', '@types/express-session@^1.18', '@types/node@^20'];
const PROJECTS = {
  express4: ['express@4.21.2', '@types/express@~4.17.21', ...SESSION_TYPES],
  express5: ['express@^5', '@types/express@^5', ...SESSION_TYPES],
  commonjs: ['express@^4.21', '@types/express@~4.17.21', 'oidc-provider@^9', ...SESSION_TYPES],
};
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
  const dirs = await Promise.all(names.map((name) => createConsumer(workDir, packed, { name, dependencies: PROJECTS[name] })));
  names.forEach((name, i) => (projects[name] = dirs[i]!));
  for (const name of names) typeChecks[name] = typeCheck(projects[name]);
}, 240_000);

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('should ship dist, README, SECURITY and package.json only, with no TypeScript sources', () => {
    const outside = packed.files.filter((f) => !f.startsWith('dist/'));
    expect(outside).toEqual(['README.md', 'SECURITY.md', 'package.json']);
    expect(packed.files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(packed.files).toEqual(
      expect.arrayContaining(['dist/cjs/index.js', 'dist/cjs/index.d.ts', 'dist/esm/index.mjs', 'dist/cjs/testing/index.d.ts', 'dist/esm/testing/index.mjs', 'dist/cjs/testing/provider.mjs']),
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
    expect(readFileSync(path.join(ROOT, 'README.md'), 'utf8').match(/Node ≥ \d+(\.\d+)*/g)).toEqual(['Node ≥ 20.18.1']);
  });
});

describe.each(Object.keys(PROJECTS) as ProjectName[])('the %s consumer project', (name) => {
  it('should type-check with skipLibCheck off', async () => {
    expect(await typeChecks[name]).toBe('');
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
