import fc from 'fast-check';
import { TokenEndpointError } from '../../lib/errors';
import { errorFromBody } from '../../lib/protocol/token-endpoint-errors';
import { fromTokenResponse, MAX_LIFETIME_SECONDS, MAX_TOKEN_LENGTH, type TokenSet } from '../../lib/protocol/token-set';

// Issue 13 #12c: token-endpoint bodies of any shape. fromTokenResponse either returns a TokenSet
// that honours every invariant or throws the documented TokenEndpointError (502), whose message
// never carries token text; errorFromBody never keeps a secret of the request.
const RUNS = 10_000;
const ERROR_RUNS = 5_000;
const NOW = 1_700_000_000_000;
const CANARY = 'CANARY';
const VSCHAR = /^[\x20-\x7E]+$/;

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 40 });
const nearLimit = fc.tuple(fc.constantFrom(MAX_TOKEN_LENGTH - 1, MAX_TOKEN_LENGTH, MAX_TOKEN_LENGTH + 1), fc.constantFrom('a', ' ', '~', '\x7f', '\n')).map(([n, c]) => CANARY.padEnd(n, c));
const tokenish = fc.oneof(
  { weight: 4, arbitrary: printable.map((s) => `${CANARY}${s}`) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }).map((s) => `${CANARY}${s}`) },
  { weight: 1, arbitrary: nearLimit },
  { weight: 1, arbitrary: fc.constantFrom('', null, 0, 1, true, [], {}, [`${CANARY}x`], { v: `${CANARY}y` }) },
);
const tokenType = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('Bearer', 'bearer', 'BEARER') },
  { weight: 1, arbitrary: fc.oneof(fc.constantFrom('DPoP', 'mac', '', 'Bearer ', null, 1), fc.string({ maxLength: 8 })) },
);
const expiresIn = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: -10, max: 10 ** 9 }) },
  fc.double(),
  fc.constantFrom(undefined, 1e308, Infinity, -Infinity, Number.NaN, '60', '1e3', '9'.repeat(400), 'soon', '', null, true, {}),
  fc.nat().map(String),
);
const body = fc
  .tuple(
    fc.record(
      {
        access_token: tokenish,
        token_type: tokenType,
        expires_in: expiresIn,
        expires: expiresIn,
        refresh_token: fc.oneof({ weight: 3, arbitrary: printable }, { weight: 1, arbitrary: tokenish }),
        id_token: fc.oneof({ weight: 3, arbitrary: printable }, { weight: 1, arbitrary: tokenish }),
        scope: fc.jsonValue(),
      },
      { requiredKeys: [] },
    ),
    fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
  )
  .map(([known, extra]) => ({ ...extra, ...known }) as Record<string, unknown>);
const previous = fc.option(fc.record({ accessToken: fc.constant('at0'), tokenType: fc.constant('bearer'), refreshToken: fc.constant('rt-previous') }), { nil: undefined });

function checkTokenSet(input: Record<string, unknown>, prev: TokenSet | undefined, tokens: TokenSet): void {
  expect(tokens.accessToken).toBe(input.access_token);
  expect(VSCHAR.test(tokens.accessToken) && tokens.accessToken.length <= MAX_TOKEN_LENGTH).toBe(true);
  expect(tokens.tokenType).toBe('bearer');
  for (const t of [tokens.refreshToken, tokens.idToken]) if (t !== undefined) expect(VSCHAR.test(t) && t.length <= MAX_TOKEN_LENGTH).toBe(true);
  if (typeof input.refresh_token !== 'string' || input.refresh_token === '') expect(tokens.refreshToken).toBe(prev?.refreshToken);
  if (tokens.expiresAt === undefined) {
    expect(tokens.issuedAt).toBeUndefined();
  } else {
    expect(tokens.issuedAt).toBe(NOW);
    expect(tokens.expiresAt > NOW && tokens.expiresAt <= NOW + MAX_LIFETIME_SECONDS * 1000).toBe(true);
    expect(JSON.parse(JSON.stringify(tokens)).expiresAt).toBe(tokens.expiresAt);
  }
}

describe('fromTokenResponse under fuzzing', () => {
  it(`should return a valid TokenSet or throw only TokenEndpointError 502 without token text (${RUNS} cases)`, () => {
    const t0 = Date.now();
    const outcomes = { accepted: 0, rejected: 0 };
    fc.assert(
      fc.property(body, previous, (input, prev) => {
        let tokens: TokenSet;
        try {
          tokens = fromTokenResponse(input, NOW, prev, undefined);
        } catch (err) {
          outcomes.rejected += 1;
          expect(err).toBeInstanceOf(TokenEndpointError);
          const e = err as TokenEndpointError;
          expect([e.status, e.code, e.cause]).toEqual([502, 'OAUTH_INVALID_TOKEN_RESPONSE', undefined]);
          expect(e.message).not.toContain(CANARY);
          expect(JSON.stringify(e)).not.toContain(CANARY);
          return;
        }
        outcomes.accepted += 1;
        checkTokenSet(input, prev, tokens);
      }),
      { numRuns: RUNS },
    );
    process.stdout.write(`fuzz-token-response: ${RUNS} bodies (${outcomes.accepted} accepted, ${outcomes.rejected} rejected) in ${Date.now() - t0} ms\n`);
    // Both branches must be exercised, or the property is vacuous on one side.
    expect(outcomes.accepted).toBeGreaterThan(RUNS / 10);
    expect(outcomes.rejected).toBeGreaterThan(RUNS / 10);
  });
});

describe('errorFromBody under fuzzing', () => {
  const secret = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 13, maxLength: 64 });
  /** A text that may embed the secret, a 12+ character slice of it, or neither, among noise. */
  const echo = (s: string) =>
    fc
      .tuple(fc.string({ maxLength: 20 }), fc.nat({ max: s.length - 12 }), fc.integer({ min: 12, max: 64 }), fc.constantFrom('whole', 'slice', 'none'), fc.string({ maxLength: 400 }))
      .map(([before, start, len, mode, after]) => `${before}${mode === 'whole' ? s : mode === 'slice' ? s.slice(start, start + len) : ''}${after}`);

  it(`should never keep a secret or a non-RFC character in error fields (${ERROR_RUNS} cases)`, () => {
    const t0 = Date.now();
    fc.assert(
      fc.property(
        secret.chain((s) => fc.tuple(fc.constant(s), echo(s), echo(s), fc.oneof(echo(s), fc.constantFrom('invalid_grant', 'server_error')))),
        fc.integer({ min: 200, max: 599 }),
        ([s, description, uriTail, error], status) => {
          const err = errorFromBody({ error, error_description: description, error_uri: `https://as.example/${uriTail}` }, status, ['other-secret', s]);
          expect(err).toBeInstanceOf(TokenEndpointError);
          const fields = [err.message, err.error ?? '', err.errorDescription ?? '', err.errorUri ?? ''];
          const windows = Array.from({ length: s.length - 11 }, (_, i) => s.slice(i, i + 12));
          expect(fields.filter((field) => windows.some((w) => field.includes(w)))).toEqual([]);
          if (err.errorDescription !== undefined) {
            expect(err.errorDescription.length).toBeLessThanOrEqual(300);
            expect(/^[\x20-\x21\x23-\x5B\x5D-\x7E]+$/.test(err.errorDescription)).toBe(true);
          }
        },
      ),
      { numRuns: ERROR_RUNS },
    );
    process.stdout.write(`fuzz-token-response errorFromBody: ${ERROR_RUNS} cases in ${Date.now() - t0} ms\n`);
  });
});
