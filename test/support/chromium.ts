import fs from 'node:fs';
import path from 'node:path';

/** Debian's chromium (or CHROMIUM_PATH). Missing: a failure with CI=true, a skip with a warning otherwise. */
export function findChromium(): string | undefined {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    for (const name of ['chromium', 'chromium-browser']) {
      const candidate = path.join(dir, name);
      if (dir && fs.existsSync(candidate)) return candidate;
    }
  }
  return undefined;
}

export function requireChromiumOrSkip(): string | undefined {
  const found = findChromium();
  if (found) return found;
  if (process.env.CI === 'true') throw new Error('chromium is required in CI (apt-get install -y chromium)');
  console.warn('chromium not found: skipping the browser tests (apt-get install -y chromium)');
  return undefined;
}

/** Flags for headless Chromium on a machine with no outside network (see the harness notes). */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
