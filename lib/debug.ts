import { createHash } from 'node:crypto';
import createDebug from 'debug';

/**
 * Namespaced logger: `DEBUG=express-oauth2-session*`. Never pass a token, code, verifier or secret
 * to it; pass `tokenId(token)` instead, which is not reversible.
 */
export const debug = createDebug('express-oauth2-session');

export function debugFor(area: string): createDebug.Debugger {
  return debug.extend(area);
}

/** First 6 hex chars of SHA-256: enough to correlate log lines, useless to an attacker. */
export function tokenId(token: string | undefined): string {
  if (!token) return '-';
  return createHash('sha256').update(token).digest('hex').slice(0, 6);
}
