import type { Request } from 'express';
import { debugFor } from '../debug.js';
import type { LiveSession } from './session-data.js';
import { readRecord, recordCookie, recordKey, recordSlackMs, touchRecord } from './token-record.js';

const log = debugFor('store');

/**
 * Keep each token record alive as long as its session. express-session extends the session's
 * expiry on every request (touch); once that comes within half the slack of the record's expiry
 * (the marker's `exp`), the record is extended to session expiry + slack. Costs a comparison per
 * logged-in request and one store write per slack period; no I/O for anonymous requests.
 */
export function followSessionLifetime(req: Request, timeoutMs: number, now: number): void {
  const session = req.session as LiveSession | undefined;
  const markers = session?.oauth?.p;
  if (!markers) return;
  const maxAge = session.cookie.originalMaxAge;
  if (!maxAge) return;
  const sessionExpiry = now + maxAge;
  const halfSlack = recordSlackMs(maxAge) / 2;
  for (const [provider, marker] of Object.entries(markers)) {
    if (marker.exp === undefined || sessionExpiry + halfSlack <= marker.exp) continue;
    const cookie = recordCookie(sessionExpiry, maxAge);
    marker.exp = (cookie.expires as Date).getTime();
    const key = recordKey(session.id, provider);
    const store = req.sessionStore;
    readRecord(store, key, timeoutMs)
      .then((record) => (record ? touchRecord(store, key, record, cookie, timeoutMs) : undefined))
      .catch((err: unknown) => log('extending the token record of %s failed: %s', provider, (err as Error).message));
  }
}
