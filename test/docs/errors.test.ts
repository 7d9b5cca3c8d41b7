import { OAUTH_CODES } from '../../lib/errors';
import { read, tableRows } from './markdown';

// docs/errors.md has a row for every error code the package throws (its status and situation): a
// new code without a row fails here, and so does a row for a code that no longer exists.
const doc = read('docs/errors.md');
const rows = tableRows(doc.split('\n## Error codes\n')[1]?.split('\n## ')[0] ?? '');

test('every OAUTH_CODES value has a row with a status', () => {
  const missing = Object.values(OAUTH_CODES).filter((code) => !rows.some((cells) => cells[2]?.includes(`\`${code}\``) && /\d{3}/.test(cells[1] ?? '')));
  expect(missing).toEqual([]);
});

test('no row names a code that does not exist', () => {
  const known = new Set<string>(Object.values(OAUTH_CODES));
  const named = rows.flatMap((cells) => [...(cells[2] ?? '').matchAll(/`(OAUTH_[A-Z_]+)`/g)].map((m) => m[1]!));
  expect(named.length).toBeGreaterThan(0);
  expect(named.filter((code) => !known.has(code))).toEqual([]);
});
