import { spawnSync } from 'node:child_process';
import path from 'node:path';

// CONFORMANCE.md is generated from scripts/conformance-plans.mjs and the test names in
// test/conformance/ (no test run): this fails when a module's test was added, renamed or removed
// without regenerating it, or when a test names a module its plan does not list.
const root = path.resolve(__dirname, '..', '..');

test('CONFORMANCE.md is up to date with the conformance tests (node scripts/conformance-report.mjs)', () => {
  const run = spawnSync(process.execPath, ['scripts/conformance-report.mjs', '--check'], { cwd: root, encoding: 'utf8' });
  expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
});
