import type { Request } from 'express';

/** The session cookie's name and the attributes needed to clear it in the browser. */
export interface SessionCookieToClear {
  name: string;
  options: { path?: string; domain?: string; secure: boolean; httpOnly?: boolean; sameSite?: boolean | 'lax' | 'strict' | 'none' };
}

/**
 * express-session does not tell which cookie carries the session id: find the request cookie
 * whose signed value (`s:<sid>.<signature>`) holds this session's id, with the session cookie's
 * attributes (a cookie is cleared only with the same path and domain).
 */
export function sessionCookieToClear(req: Request): SessionCookieToClear | undefined {
  const prefix = `s:${req.sessionID}.`;
  for (const pair of (req.headers.cookie ?? '').split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    let value = pair.slice(eq + 1).trim();
    try {
      value = decodeURIComponent(value);
    } catch {
      continue;
    }
    if (!value.startsWith(prefix)) continue;
    const { path, domain, secure, sameSite, httpOnly } = req.session.cookie;
    return { name: pair.slice(0, eq).trim(), options: { path, domain, secure: secure === true, httpOnly, sameSite: sameSite as SessionCookieToClear['options']['sameSite'] } };
  }
  return undefined;
}
