import { BACKCHANNEL_LOGOUT_KEYS, BACKEND_KEYS, COMMON_KEYS, FRONTCHANNEL_LOGOUT_KEYS, PROVIDER_KEYS, ROUTE_KEYS } from '../../lib/config/option-keys';
import { read, tableRows } from './markdown';

// docs/configuration.md has a row for every option key the factories accept (the key lists tsc
// keeps in sync with the option types): a new option without a row fails here.
const doc = read('docs/configuration.md');

/** The option names of the first cell of every table row in `section` (`a`, `b` from "`a`, `b`"). */
function documented(section: string): string[] {
  const text = doc.split(`\n## ${section}\n`)[1]?.split('\n## ')[0];
  if (text === undefined) throw new Error(`docs/configuration.md has no "## ${section}"`);
  return tableRows(text).flatMap(([first]) => [...(first ?? '').matchAll(/`([\w.]+)`/g)].map((m) => m[1]!));
}

test.each([
  ['Provider options', PROVIDER_KEYS],
  ['Options for every provider', COMMON_KEYS],
  ['`routes`', ROUTE_KEYS.map((k) => `routes.${k}`)],
  ['`backchannelLogout`', BACKCHANNEL_LOGOUT_KEYS.map((k) => `backchannelLogout.${k}`)],
  ['`frontchannelLogout`', FRONTCHANNEL_LOGOUT_KEYS.map((k) => `frontchannelLogout.${k}`)],
  ['`clientCredentials()` and `passwordGrant()`', BACKEND_KEYS.filter((k) => !PROVIDER_KEYS.includes(k)).concat(['username', 'password'])],
])('"%s" has a row for every key', (section, keys) => {
  const rows = documented(section);
  expect(keys.filter((key) => !rows.includes(key))).toEqual([]);
});

test('no row documents an option that does not exist', () => {
  const known = [...PROVIDER_KEYS, ...COMMON_KEYS];
  expect(documented('Provider options').filter((key) => !PROVIDER_KEYS.includes(key))).toEqual([]);
  expect(documented('Options for every provider').filter((key) => !known.includes(key))).toEqual([]);
});
