import type { Request } from 'express';

/** What the callback's request says about the session cookie (express-session's), for diagnostics only. */
export interface SessionCookieFacts {
  /** The cookie of this request's session came with the request (its session was found in the store). */
  sent: boolean;
  /**
   * A signed express-session cookie (`s:<id>.<signature>`) came, but not this session's: express-session
   * made a new session because the store had no session for it (expired, lost) or its signature did
   * not verify (the session secret changed).
   */
  unknownSent: boolean;
  /** The session cookie is set with `Secure` on this request (express-session does not set such a cookie over http). */
  secure: boolean;
}

function signedValues(req: Request): string[] {
  const values: string[] = [];
  for (const pair of (req.headers.cookie ?? '').split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    try {
      const value = decodeURIComponent(pair.slice(eq + 1).trim());
      if (value.startsWith('s:')) values.push(value);
    } catch {
      continue;
    }
  }
  return values;
}

/** The session cookie facts of `req` (no store call, no write). */
export function sessionCookieFacts(req: Request): SessionCookieFacts {
  const values = signedValues(req);
  const own = `s:${req.sessionID}.`;
  const sent = req.sessionID !== undefined && values.some((v) => v.startsWith(own));
  return { sent, unknownSent: !sent && values.length > 0, secure: req.session?.cookie?.secure === true };
}
