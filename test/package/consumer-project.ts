import { execFile } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

// Throwaway consumer projects for test/package/package.test.ts: the package is built and packed
// the way `npm publish` would ship it, then installed from the registry-like tarball next to real
// Express/@types versions, in os.tmpdir() (outside the repo, so nothing resolves from its node_modules).
const exec = promisify(execFile);
export const ROOT = path.resolve(__dirname, '../..');
const CONSUMERS = path.join(__dirname, 'consumers');
/** The machine's npm cache is shared by every project and run: after the first run, installs are offline. */
const NPM_FLAGS = ['--prefer-offline', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error'];

/** What `npm pack` produced: the tarball and the files it holds. */
export interface PackedPackage {
  tarball: string;
  files: string[];
}

/** Build dist/ into a staging copy of the package and `npm pack` it (no lifecycle scripts: the build just ran). */
export async function packPackage(workDir: string): Promise<PackedPackage> {
  const staging = path.join(workDir, 'staging');
  mkdirSync(staging);
  // Everything `npm pack` ships besides dist/ (README, docs/*.md, SECURITY, CHANGELOG, LICENSE, package.json).
  const { stdout: listed } = await exec('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT });
  const shipped = (JSON.parse(listed) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path).filter((f) => !f.startsWith('dist/'));
  for (const file of shipped) {
    mkdirSync(path.dirname(path.join(staging, file)), { recursive: true });
    copyFileSync(path.join(ROOT, file), path.join(staging, file));
  }
  await exec(process.execPath, [path.join(ROOT, 'scripts/build.mjs'), '--out', path.join(staging, 'dist')]);
  const { stdout } = await exec('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', workDir], { cwd: staging });
  const [packed] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  return { tarball: path.join(workDir, packed!.filename), files: packed!.files.map((f) => f.path).sort() };
}

/** A consumer project: fixture files from test/package/consumers, and npm installs once. */
export interface ConsumerSpec {
  /** Folder under test/package/consumers with the project's own files (tsconfig.json, smoke script). */
  name: string;
  /** Registry packages besides the tarball, e.g. `['express@4.21.2', '@types/express@~4.17.21']`. */
  dependencies: string[];
  /** package.json `type`: `module` makes its .ts files ES modules under `nodenext`. Default: none (CommonJS). */
  type?: 'module';
}

/** Create the project in its own temp folder and install the tarball and its dependencies. */
export async function createConsumer(workDir: string, packed: PackedPackage, spec: ConsumerSpec): Promise<string> {
  const dir = mkdtempSync(path.join(workDir, `${spec.name}-`));
  writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify({ name: `consumer-${spec.name}`, private: true, ...(spec.type ? { type: spec.type } : {}) }, null, 2)}\n`);
  cpSync(path.join(CONSUMERS, spec.name), dir, { recursive: true });
  for (const shared of ['typed-app.ts', 'smoke-app.cjs']) copyFileSync(path.join(CONSUMERS, shared), path.join(dir, shared));
  await exec('npm', ['install', ...NPM_FLAGS, packed.tarball, ...spec.dependencies], { cwd: dir });
  return dir;
}

/** This repo's TypeScript (5.x); a consumer may install its own (`typescript@7`) and pass its tsc. */
export const REPO_TSC = path.join(ROOT, 'node_modules/typescript/bin/tsc');

/** `tsc -p tsconfig.json [...args]` in the project (the project's own types and packages); '' when clean, else tsc's output. */
export async function typeCheck(dir: string, tsc = REPO_TSC, args: string[] = []): Promise<string> {
  try {
    await exec(process.execPath, [tsc, '-p', 'tsconfig.json', ...args], { cwd: dir });
    return '';
  } catch (err) {
    return (err as { stdout?: string }).stdout || String(err);
  }
}

/** Run a script of the project with node and parse the JSON line it prints. */
export async function runScript(dir: string, script: string): Promise<unknown> {
  const { stdout } = await exec(process.execPath, [script], { cwd: dir, timeout: 60_000 });
  return JSON.parse(stdout.trim().split('\n').pop() ?? 'null');
}

export function createWorkDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'eos-package-'));
}
