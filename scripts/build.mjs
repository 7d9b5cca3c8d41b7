#!/usr/bin/env node
// Build dist/: tsc emits CommonJS + .d.ts to dist/cjs; ESM entry points (.mjs + .d.mts) are thin
// wrappers that re-export the CommonJS build, so CJS and ESM consumers share one module instance (one
// in-process refresh map, one connection pool).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// `--out DIR` builds elsewhere (the package test builds into a temp consumer project).
const outFlag = process.argv.indexOf('--out');
const dist = outFlag > 0 ? path.resolve(process.argv[outFlag + 1]) : path.join(root, 'dist');

/** Runtime export names of a built CommonJS file, loaded in a child process that resolves this repo's dependencies (the out dir may be anywhere). */
function exportNames(file) {
  const listed = spawnSync(process.execPath, ['-e', 'console.log(JSON.stringify(Object.keys(require(process.argv[1]))))', file], {
    encoding: 'utf8',
    env: { ...process.env, NODE_PATH: path.join(root, 'node_modules') },
  });
  if (listed.status !== 0) throw new Error(`cannot load ${file}: ${listed.stderr}`);
  return JSON.parse(listed.stdout).filter((n) => n !== 'default' && n !== '__esModule');
}

rmSync(dist, { recursive: true, force: true });
const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json'), '--outDir', path.join(dist, 'cjs')], { stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
writeFileSync(path.join(dist, 'cjs/package.json'), '{ "type": "commonjs" }\n');

// Plain JS helpers that tsc does not copy (the test provider runs as its own ESM process).
const testingSrc = path.join(root, 'lib/testing');
if (existsSync(testingSrc)) {
  for (const file of readdirSync(testingSrc).filter((f) => /\.(mjs|cjs)$/.test(f))) {
    copyFileSync(path.join(testingSrc, file), path.join(dist, 'cjs/testing', file));
  }
}

const entries = [['index', 'index']];
if (existsSync(path.join(dist, 'cjs/testing/index.js'))) entries.push(['testing/index', 'testing/index']);
for (const [cjsEntry, esmEntry] of entries) {
  const cjsFile = path.join(dist, 'cjs', `${cjsEntry}.js`);
  const names = exportNames(cjsFile);
  const esmFile = path.join(dist, 'esm', `${esmEntry}.mjs`);
  mkdirSync(path.dirname(esmFile), { recursive: true });
  const rel = path.relative(path.dirname(esmFile), cjsFile).split(path.sep).join('/');
  const spec = rel.startsWith('.') ? rel : `./${rel}`;
  writeFileSync(esmFile, `import cjs from '${spec}';\nexport const { ${names.join(', ')} } = cjs;\n`);
  // ESM types beside the ESM entry (publint, attw "Masquerading as CJS"): the same declarations,
  // re-exported from the CommonJS build so both resolutions see one set of types.
  writeFileSync(esmFile.replace(/\.mjs$/, '.d.mts'), `export * from '${spec}';\n`);
}
console.log(`built ${path.relative(root, dist) || dist}/ (${entries.map(([e]) => e).join(', ')})`);
