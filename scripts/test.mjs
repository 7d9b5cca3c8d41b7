#!/usr/bin/env node
// `npm test`: type-check everything (library, tests, example, bench), then run jest.
// In CI (CI=true) the Redis and browser tests refuse to skip: their helpers throw when
// redis-server or chromium is missing.
import { spawnSync } from 'node:child_process';

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: process.env });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json', '--noEmit']);
run(process.execPath, ['node_modules/jest/bin/jest.js', ...process.argv.slice(2)]);
