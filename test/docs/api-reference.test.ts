import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './markdown';

// The TypeDoc API reference (typedoc.json, `npm run docs:api`) builds with no warning: every
// `{@link}` resolves, and every type a public signature names is exported (validation
// `invalidLink` + `notExported`, warnings treated as errors). `--emit none` checks without writing.
const exec = promisify(execFile);

test('typedoc validates the public API with no broken link and no unexported type', async () => {
  const run = await exec(process.execPath, [path.join(ROOT, 'node_modules/typedoc/bin/typedoc'), '--emit', 'none', '--logLevel', 'Warn'], { cwd: ROOT }).then(
    ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, output: err.stdout + err.stderr }),
  );
  expect(run).toEqual({ code: 0, output: '' });
}, 60_000);
