import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

// The ownership claims of ARCHITECTURE.md, checked by grep over lib/ so that a change that
// breaks one fails here: one layer writes login state (lib/session/), one lifecycle obtains and
// ends tokens (lib/client/token-lifecycle.ts with refresh.ts + refresh-under-lock.ts and the backend grant clients), one
// module sends HTTP (lib/client/transport.ts; simple-oauth2 only behind lib/protocol/token-endpoint.ts).
const LIB = path.join(__dirname, '..', 'lib');

function sources(dir = LIB): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return /\.(ts|mjs)$/.test(entry.name) ? [full] : [];
  });
}

/** lib-relative paths of the files whose code (comments stripped) matches `pattern`. */
function filesMatching(pattern: RegExp): string[] {
  return sources()
    .filter((file) => pattern.test(readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm, '')))
    .map((file) => path.relative(LIB, file).split(path.sep).join('/'))
    .sort();
}

const outside = (folder: string) => (files: string[]) => files.filter((file) => !file.startsWith(folder));

describe('architecture: who writes login state', () => {
  it('should keep express-session, the store and the stored login data inside lib/session/', () => {
    expect(outside('session/')(filesMatching(/from 'express-session'/))).toEqual([]);
    expect(outside('session/')(filesMatching(/\bsessionStore\b/))).toEqual([]);
    expect(outside('session/')(filesMatching(/\.oauth\??\.(p|tx|x)\b/))).toEqual([]);
  });

  it('should write token records and tombstones only through token-records.ts and the login store (with its back-channel part)', () => {
    expect(filesMatching(/\b(writeRecord|deleteRecord|writeTombstone)\(/)).toEqual([
      'session/backchannel-sessions.ts',
      'session/login-store.ts',
      'session/token-record.ts',
      'session/token-records.ts',
      'session/tombstone.ts',
    ]);
  });
});

describe('architecture: who obtains and ends tokens', () => {
  it('should call the token endpoint only from the lifecycle, the refresher, the per-API grants and the backend grant clients', () => {
    expect(filesMatching(/\.(exchangeCode|refreshGrant|clientCredentialsGrant|passwordGrant|tokenExchangeGrant)\(/)).toEqual([
      'client/api-grants.ts',
      'client/client-credentials.ts',
      'client/password-grant.ts',
      'client/refresh-under-lock.ts',
      'client/token-lifecycle.ts',
    ]);
  });

  it('should revoke only in the lifecycle (every end of a login), the refresher (a login that ended during its refresh) and the login grants (a result obtained under a lapsed lease)', () => {
    expect(filesMatching(/\brevokeEnded\(/)).toEqual(['client/login-grants.ts', 'client/refresh-under-lock.ts', 'client/revoke.ts', 'client/token-lifecycle.ts']);
    expect(filesMatching(/\brevokeToken\(/)).toEqual(['client/revoke.ts', 'protocol/revocation.ts']);
  });

  it('should announce token changes (onTokens, login/logout events) only in token-events.ts', () => {
    expect(filesMatching(/\bonTokens\(/)).toEqual(['client/token-events.ts']);
    expect(filesMatching(/emit\('(login|logout)'/)).toEqual(['client/token-events.ts']);
  });
});

describe('architecture: who sends HTTP', () => {
  it('should import undici only in transport.ts and simple-oauth2 only in token-endpoint.ts', () => {
    expect(filesMatching(/from 'undici'/)).toEqual(['client/transport.ts']);
    expect(filesMatching(/from 'simple-oauth2'/)).toEqual(['protocol/token-endpoint.ts']);
  });

  it('should never use the global fetch in the library (only the test kit, which talks to its own provider)', () => {
    expect(outside('testing/')(filesMatching(/(globalThis\.fetch|(?<!(\.|\w|async |abstract ))fetch\()/))).toEqual([]);
  });
});

describe('architecture: no process-global mutable state', () => {
  it('should hold no module-level mutable collections or variables in the library', () => {
    expect(outside('testing/')(filesMatching(/^(let |(export )?const \w+ = new (Map|WeakMap|Set)\(\)|(export )?const \w+(: [\w<>, ]+)? = \[\];)/m))).toEqual([]);
  });
});
