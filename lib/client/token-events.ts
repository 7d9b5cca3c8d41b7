import type { TokensEvent } from '../config/options.js';
import { debugFor, tokenId } from '../debug.js';
import { OAUTH_CODES } from '../errors.js';
import type { OAuthEventEmitter, OAuthEvents } from '../events.js';
import type { TokenSet } from '../protocol/token-set.js';
import { DISABLED_TELEMETRY, type Telemetry } from '../telemetry/telemetry.js';

const log = debugFor('tokens');

type LogoutReason = OAuthEvents['logout'][0]['reason'];

/**
 * The announce step of the token lifecycle: each change of a login's tokens is reported once, as a
 * typed event (`login`, `refresh`, `logout`) and through the `onTokens` hook, in that order. The
 * tokens are already stored (or forgotten) when this runs, so a failing hook must not fail the
 * request: its error is reported on the `error` event and in the debug log.
 */
export class TokenEvents {
  constructor(
    private readonly events: OAuthEventEmitter,
    private readonly onTokens: ((event: TokensEvent) => void | Promise<void>) | undefined,
    /** Counts logins, refreshes and logouts (metrics). */
    private readonly telemetry: Telemetry = DISABLED_TELEMETRY,
  ) {}

  async loggedIn(sessionId: string, provider: string, tokens: TokenSet, sub: string | undefined): Promise<void> {
    this.telemetry.countLogin(provider);
    this.events.emit('login', { provider, sub });
    await this.#hook({ sessionId, provider, tokens, previous: undefined, reason: 'login' });
  }

  async refreshed(sessionId: string, provider: string, tokens: TokenSet, previous: TokenSet): Promise<void> {
    this.telemetry.countRefresh(provider, 'refreshed');
    this.events.emit('refresh', { provider, outcome: 'refreshed', tokenId: tokenId(tokens.accessToken) });
    await this.#hook({ sessionId, provider, tokens, previous, reason: 'refresh' });
  }

  /** A request joined a refresh in flight in this process. */
  joined(provider: string, accessToken: string): void {
    this.telemetry.countRefresh(provider, 'joined');
    this.events.emit('refresh', { provider, outcome: 'joined', tokenId: tokenId(accessToken) });
  }

  /** Another worker refreshed already (seen after the lock): its record is used. */
  reused(provider: string, accessToken: string): void {
    this.telemetry.countRefresh(provider, 'reused');
    this.events.emit('refresh', { provider, outcome: 'reused', tokenId: tokenId(accessToken) });
  }

  /** The provider rejected a refresh token that another worker had rotated meanwhile: the winner's record is used. */
  raceLost(provider: string): void {
    this.events.emit('refresh-race-lost', { provider });
  }

  /** Revoking a token failed (logged by the caller; the login still ended). */
  revocationFailed(provider: string, code: string): void {
    this.events.emit('error', { provider, code, status: 502 });
  }

  /** A login ended, for any reason; `previous` is undefined when its tokens were already gone. */
  async loggedOut(sessionId: string, provider: string, previous: TokenSet | undefined, reason: LogoutReason): Promise<void> {
    this.telemetry.countLogout(provider, reason);
    this.events.emit('logout', { provider, reason });
    await this.#hook({ sessionId, provider, tokens: undefined, previous, reason: 'logout' });
  }

  async #hook(event: TokensEvent): Promise<void> {
    if (!this.onTokens) return;
    try {
      await this.onTokens(event);
    } catch (err) {
      log('onTokens hook failed for %s (%s): %s', event.provider, event.reason, (err as Error)?.message);
      this.events.emit('error', { provider: event.provider, code: OAUTH_CODES.HOOK_FAILED, status: 500 });
    }
  }
}
