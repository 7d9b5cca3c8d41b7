import { MAX_CHALLENGE_HEADER, parseWwwAuthenticate, readBearerChallenge } from '../../lib/protocol/www-authenticate';

describe('parseWwwAuthenticate (RFC 9110 §11.6.1)', () => {
  it('should read schemes, params (names lower-cased), quoted strings with escapes and token values', () => {
    expect(parseWwwAuthenticate('Bearer realm="example", error="insufficient_scope", scope="a b", X=tok')).toEqual([
      { scheme: 'bearer', params: { realm: 'example', error: 'insufficient_scope', scope: 'a b', x: 'tok' } },
    ]);
    expect(parseWwwAuthenticate('Bearer error_description="say \\"hi\\" \\\\ there"')[0]!.params).toEqual({ error_description: 'say "hi" \\ there' });
  });

  it('should split several challenges, token68 ones and empty list elements included', () => {
    expect(parseWwwAuthenticate('Basic realm="x", , Negotiate abc+/==, DPoP algs="ES256", error="invalid_token",Bearer')).toEqual([
      { scheme: 'basic', params: { realm: 'x' } },
      { scheme: 'negotiate', params: {}, token68: 'abc+/==' },
      { scheme: 'dpop', params: { algs: 'ES256', error: 'invalid_token' } },
      { scheme: 'bearer', params: {} },
    ]);
  });

  it('should accept whitespace around "=" (BWS) and tabs', () => {
    expect(parseWwwAuthenticate('Bearer\terror = "insufficient_scope" ,  scope =x')).toEqual([{ scheme: 'bearer', params: { error: 'insufficient_scope', scope: 'x' } }]);
  });

  it('should drop a challenge that repeats a parameter and keep the others (RFC 6750 §3)', () => {
    expect(parseWwwAuthenticate('Bearer error="a", ERROR="b", DPoP error="c"')).toEqual([{ scheme: 'dpop', params: { error: 'c' } }]);
  });

  it.each([
    ['an unterminated quoted string', 'Bearer error="insufficient_scope'],
    ['a control character in a quoted string', 'Bearer error="a\u0001b"'],
    ['non-ASCII in a quoted string', 'Bearer scope="caf\u00e9"'],
    ['a missing value', 'Bearer error=, scope="a"'],
    ['two params without a comma', 'Bearer error="a" scope="b"'],
    ['no scheme', '="x"'],
    ['a scheme glued to a quote', 'Bearer"x"'],
  ])('should read nothing from %s', (_name, header) => {
    expect(parseWwwAuthenticate(header)).toEqual([]);
  });

  it('should not read a header over the cap, nor more than 32 parameters', () => {
    const long = `Bearer error="insufficient_scope", scope="${'a'.repeat(MAX_CHALLENGE_HEADER)}"`;
    expect(parseWwwAuthenticate(long)).toEqual([]);
    const many = `Bearer ${Array.from({ length: 33 }, (_, i) => `p${i}=v`).join(', ')}`;
    expect(parseWwwAuthenticate(many)).toEqual([]);
    expect(parseWwwAuthenticate(null)).toEqual([]);
  });

  it('should give no prototype keys to a "__proto__" parameter', () => {
    const [challenge] = parseWwwAuthenticate('Bearer __proto__="x", error="insufficient_scope"');
    expect(Object.getPrototypeOf(challenge!.params)).toBeNull();
    expect(challenge!.params.error).toBe('insufficient_scope');
  });
});

describe('readBearerChallenge', () => {
  it('should read RFC 6750 insufficient_scope with its scope tokens', () => {
    expect(readBearerChallenge('Bearer realm="api", error="insufficient_scope", scope="orders:write  orders:read"')).toEqual({
      scheme: 'bearer',
      error: 'insufficient_scope',
      scope: ['orders:write', 'orders:read'],
    });
  });

  it('should read RFC 9470 acr_values and max_age', () => {
    expect(
      readBearerChallenge('Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="urn:mfa urn:hwk", max_age="300"'),
    ).toEqual({
      scheme: 'bearer',
      error: 'insufficient_user_authentication',
      acrValues: ['urn:mfa', 'urn:hwk'],
      maxAge: 300,
    });
    expect(readBearerChallenge('Bearer error="insufficient_user_authentication", max_age=0')?.maxAge).toBe(0);
  });

  it('should read RFC 9728 resource_metadata as a URL', () => {
    expect(readBearerChallenge('Bearer resource_metadata="https://api.example/.well-known/oauth-protected-resource"')?.resourceMetadata?.href).toBe(
      'https://api.example/.well-known/oauth-protected-resource',
    );
  });

  it('should prefer the challenge of the token scheme (RFC 9449 §7.1)', () => {
    const header = 'Bearer error="insufficient_scope", scope="a", DPoP error="insufficient_scope", scope="b", algs="ES256"';
    expect(readBearerChallenge(header, 'dpop')?.scope).toEqual(['b']);
    expect(readBearerChallenge(header, 'bearer')?.scope).toEqual(['a']);
    expect(readBearerChallenge('DPoP error="insufficient_scope", scope="c"', 'bearer')?.scope).toEqual(['c']);
    expect(readBearerChallenge('Basic realm="x"')).toBeUndefined();
  });

  it.each([
    ['a scope token with a quote', 'Bearer error="insufficient_scope", scope="a\\"b"', { scheme: 'bearer', error: 'insufficient_scope' }],
    ['a negative max_age', 'Bearer error="insufficient_user_authentication", max_age="-1"', { scheme: 'bearer', error: 'insufficient_user_authentication' }],
    ['a max_age of 11 digits', 'Bearer error="insufficient_user_authentication", max_age="12345678901"', { scheme: 'bearer', error: 'insufficient_user_authentication' }],
    ['a relative resource_metadata', 'Bearer resource_metadata="/.well-known/oauth-protected-resource"', { scheme: 'bearer' }],
    ['a javascript: resource_metadata', 'Bearer resource_metadata="javascript:alert(1)"', { scheme: 'bearer' }],
    ['a resource_metadata with credentials', 'Bearer resource_metadata="https://u:p@api.example/m"', { scheme: 'bearer' }],
    ['an error with a backslash', 'Bearer error="a\\\\b"', { scheme: 'bearer' }],
  ])('should leave out %s', (_name, header, expected) => {
    expect(readBearerChallenge(header)).toEqual(expected);
  });
});

describe('parseWwwAuthenticate on random input', () => {
  // A seeded generator (no flakiness): headers built from the characters that matter to the grammar.
  function* headers(count: number): Generator<string> {
    let seed = 42;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const alphabet = ['Bearer', 'DPoP', ' ', ',', '=', '"', '\\', 'error', 'scope', 'a', '\t', '\u0000', '\u00e9', '==', 'insufficient_scope', 'max_age', '1'];
    for (let i = 0; i < count; i++) {
      let h = '';
      const length = Math.floor(next() * 40);
      for (let j = 0; j < length; j++) h += alphabet[Math.floor(next() * alphabet.length)];
      yield h;
    }
  }

  it('should never throw, and return only lower-case schemes with string parameters', () => {
    for (const header of headers(5000)) {
      const challenges = parseWwwAuthenticate(header);
      for (const c of challenges) {
        expect(c.scheme).toBe(c.scheme.toLowerCase());
        expect(Object.values(c.params).every((v) => typeof v === 'string')).toBe(true);
      }
      expect(() => readBearerChallenge(header)).not.toThrow();
    }
  });
});
