import { EventEmitter } from 'node:events';

/** Payloads carry no token values: provider name, outcome and non-reversible ids only. */
export interface OAuthEvents {
  login: [{ provider: string; sub: string | undefined }];
  refresh: [{ provider: string; outcome: 'refreshed' | 'joined' | 'reused'; tokenId: string }];
  'refresh-race-lost': [{ provider: string }];
  logout: [{ provider: string; reason: 'user' | 'refresh-rejected' | 'record-missing' | 'backchannel' | 'frontchannel' }];
  error: [{ provider: string | undefined; code: string; status: number }];
  /** A problem the developer must fix (cookie, host, proxy, client credentials), once per cause: see docs/troubleshooting.md. */
  warning: [{ code: string; provider: string | undefined; message: string }];
}

export type OAuthEventName = keyof OAuthEvents;

/** Typed emitter; `error` events never throw when nobody listens (unlike a plain EventEmitter). */
export class OAuthEventEmitter extends EventEmitter<OAuthEvents> {
  override emit<K extends OAuthEventName>(event: K, ...args: OAuthEvents[K]): boolean {
    if (event === 'error' && this.listenerCount('error') === 0) return false;
    return super.emit(event, ...(args as never));
  }
}
