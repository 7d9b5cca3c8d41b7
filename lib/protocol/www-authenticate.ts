// A strict reader of `WWW-Authenticate` (RFC 9110 §11.6.1) for the challenges an API sends with a
// bearer or DPoP token: RFC 6750 §3 (`error`, `scope`), RFC 9470 §3 (`acr_values`, `max_age`),
// RFC 9728 §5.1 (`resource_metadata`). Framework-free; the header is untrusted input: it is read
// only up to a cap, a malformed challenge is dropped whole (never half-read), and every value
// that the package acts on is checked against its RFC grammar.

/** Headers longer than this are not read (RFC 9110 sets no limit; real challenges are < 1 KiB). */
export const MAX_CHALLENGE_HEADER = 8 * 1024;
/** At most this many challenges or parameters per header are read. */
const MAX_ITEMS = 32;

/** One challenge: the scheme (lower-case) and its parameters (names lower-case). */
export interface Challenge {
  scheme: string;
  params: Readonly<Record<string, string>>;
  /** RFC 9110 token68 form (`Negotiate abc==`), when the challenge had one instead of parameters. */
  token68?: string;
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
/** token68 followed by optional whitespace and a comma or the end. */
const TOKEN68_AHEAD = /^([A-Za-z0-9\-._~+/]+=*)[ \t]*(?=,|$)/;

class Reader {
  pos = 0;
  constructor(readonly text: string) {}

  get done(): boolean {
    return this.pos >= this.text.length;
  }

  peek(): string {
    return this.text[this.pos] ?? '';
  }

  /** Optional whitespace (OWS / BWS). */
  space(): number {
    const start = this.pos;
    while (this.peek() === ' ' || this.peek() === '\t') this.pos++;
    return this.pos - start;
  }

  token(): string {
    const start = this.pos;
    while (!this.done && TCHAR.test(this.peek())) this.pos++;
    return this.text.slice(start, this.pos);
  }

  /** RFC 9110 §5.6.4 quoted-string, unescaped; undefined when malformed. */
  quoted(): string | undefined {
    if (this.peek() !== '"') return undefined;
    this.pos++;
    let out = '';
    while (!this.done) {
      const c = this.text[this.pos++]!;
      if (c === '"') return out;
      if (c === '\\') {
        if (this.done) return undefined;
        const escaped = this.text[this.pos++]!;
        if (!isQdText(escaped) && escaped !== '"' && escaped !== '\\') return undefined;
        out += escaped;
      } else if (isQdText(c)) {
        out += c;
      } else {
        return undefined;
      }
    }
    return undefined;
  }
}

/** qdtext (+ the quote and backslash, which only appear escaped): HTAB, SP, VCHAR; obs-text refused. */
function isQdText(c: string): boolean {
  const code = c.charCodeAt(0);
  return code === 0x09 || (code >= 0x20 && code <= 0x7e && c !== '"' && c !== '\\');
}

/** Skip list separators: `,` with optional whitespace, empty elements allowed (RFC 9110 §5.6.1). */
function skipCommas(r: Reader): boolean {
  let any = false;
  for (;;) {
    r.space();
    if (r.peek() !== ',') return any;
    r.pos++;
    any = true;
  }
}

/**
 * Every challenge of a `WWW-Authenticate` value (several header lines joined by `, `, as
 * `Headers.get` returns them). Returns `[]` for a header over {@link MAX_CHALLENGE_HEADER} or one
 * that does not follow the grammar; a challenge with a repeated parameter is dropped (RFC 6750
 * §3: no attribute more than once), the others are kept.
 */
export function parseWwwAuthenticate(header: string | null | undefined): Challenge[] {
  if (!header || header.length > MAX_CHALLENGE_HEADER) return [];
  const r = new Reader(header);
  const out: Challenge[] = [];
  skipCommas(r);
  while (!r.done) {
    if (out.length >= MAX_ITEMS) return out;
    const scheme = r.token();
    if (!scheme) return [];
    const challenge = { scheme: scheme.toLowerCase(), params: Object.create(null) as Record<string, string> };
    let valid = true;
    let count = 0;
    const gap = r.space();
    if (gap > 0 && !r.done && r.peek() !== ',') {
      // token68 (a run of token68 characters alone up to the next comma), else auth-params.
      const token68 = TOKEN68_AHEAD.exec(r.text.slice(r.pos));
      if (token68) {
        r.pos += token68[0].length;
        out.push({ scheme: challenge.scheme, params: Object.freeze(challenge.params), token68: token68[1]! });
        skipCommas(r);
        continue;
      }
      // auth-params until the next scheme (a token not followed by "=").
      for (;;) {
        const at = r.pos;
        const name = r.token();
        if (!name) return [];
        r.space();
        if (r.peek() !== '=') {
          r.pos = at;
          break;
        }
        r.pos++;
        r.space();
        const value = r.peek() === '"' ? r.quoted() : r.token() || undefined;
        if (value === undefined) return [];
        const key = name.toLowerCase();
        if (key in challenge.params) valid = false;
        if (++count > MAX_ITEMS) return [];
        challenge.params[key] = value;
        r.space();
        if (r.done) break;
        if (r.peek() !== ',') return [];
        skipCommas(r);
        if (r.done) break;
      }
    } else {
      skipCommas(r);
    }
    if (valid) out.push({ scheme: challenge.scheme, params: Object.freeze(challenge.params) });
  }
  return out;
}

/** RFC 6750 §3: `error` and `error_description` characters (%x20-21 / %x23-5B / %x5D-7E). */
const ERROR_CHARS = /^[\x20\x21\x23-\x5b\x5d-\x7e]+$/;
/** RFC 6749 §3.3 scope-token (NQCHAR, no space). */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
const MAX_VALUE = 1024;

/** What an API's challenge asks for, validated (values that break their grammar are left out). */
export interface BearerChallenge {
  /** `bearer` or `dpop`. */
  scheme: 'bearer' | 'dpop';
  /** RFC 6750 §3.1 / RFC 9470 §3 error code: `invalid_token`, `insufficient_scope`, `insufficient_user_authentication`, … */
  error?: string;
  /** The scope the resource needs (RFC 6750 §3), as scope tokens. */
  scope?: string[];
  /** RFC 9470: acceptable authentication context classes, in order of preference. */
  acrValues?: string[];
  /** RFC 9470: the longest acceptable time since the user authenticated, seconds. */
  maxAge?: number;
  /** RFC 9728 §5.1: the URL of the resource's protected-resource metadata. */
  resourceMetadata?: URL;
}

function tokens(value: string | undefined, grammar: RegExp): string[] | undefined {
  if (value === undefined || value.length > MAX_VALUE) return undefined;
  const list = value.split(' ').filter(Boolean);
  return list.length > 0 && list.every((t) => grammar.test(t)) ? [...new Set(list)] : undefined;
}

function readBearer(challenge: Challenge): BearerChallenge {
  const p = challenge.params;
  const out: BearerChallenge = { scheme: challenge.scheme as 'bearer' | 'dpop' };
  if (p.error !== undefined && p.error.length <= 128 && ERROR_CHARS.test(p.error)) out.error = p.error;
  const scope = tokens(p.scope, SCOPE_TOKEN);
  if (scope) out.scope = scope;
  const acr = tokens(p.acr_values, SCOPE_TOKEN);
  if (acr) out.acrValues = acr;
  if (p.max_age !== undefined && /^\d{1,10}$/.test(p.max_age)) out.maxAge = Number(p.max_age);
  if (p.resource_metadata !== undefined && p.resource_metadata.length <= 2048) {
    try {
      const url = new URL(p.resource_metadata);
      if ((url.protocol === 'https:' || url.protocol === 'http:') && !url.username && !url.password && !url.hash) out.resourceMetadata = url;
    } catch {
      // not a URL: ignored
    }
  }
  return out;
}

/**
 * The bearer-token challenge of an answer: the `DPoP` challenge when the token was DPoP-bound
 * (RFC 9449 §7.1), else the `Bearer` one; when both are present the one of the token's scheme
 * wins. Undefined when the header has neither.
 */
export function readBearerChallenge(header: string | null | undefined, tokenScheme: 'bearer' | 'dpop' = 'bearer'): BearerChallenge | undefined {
  const all = parseWwwAuthenticate(header).filter((c) => c.scheme === 'bearer' || c.scheme === 'dpop');
  const chosen = all.find((c) => c.scheme === tokenScheme) ?? all[0];
  return chosen && readBearer(chosen);
}
