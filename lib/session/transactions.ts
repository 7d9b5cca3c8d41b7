import { SessionUnavailableError } from '../errors.js';
import type { RefreshLock } from './lock.js';
import type { PendingLogin } from './session-format.js';
import { TRANSACTION_TTL_MS, consumeTransaction, peekTransaction, stateKey, type LiveSession } from './session-data.js';

/** How a claimed callback ended, so a duplicate of it (double click, proxy retry) can follow. */
export interface LoginOutcome {
  /** The session id the login produced, or undefined when it failed. */
  sessionId: string | undefined;
}

interface Claim {
  expiresAt: number;
  /** The pre-login session and the code of the request that won the claim. */
  sessionId: string;
  code: string;
  outcome: Promise<LoginOutcome>;
}

export type ClaimResult =
  | { kind: 'won'; tx: PendingLogin; settle: (outcome: LoginOutcome) => void }
  /** The same callback (same session, state and code) is being handled by another request. */
  | { kind: 'duplicate'; tx: PendingLogin; outcome: Promise<LoginOutcome> }
  | { kind: 'rejected' };

const MAX_CLAIMS = 100_000;

/**
 * A `state` is used at most once, atomically. Two requests with the same state load the same
 * session independently, so removing the transaction from `req.session` cannot decide between
 * them: the first to claim the state here wins. In one process the claim is a map entry; across
 * processes it is the configured lock (`SET NX` with `redisLock`), taken for the transaction's
 * lifetime and never released, so a state can never be claimed twice while it could be valid.
 */
export class TransactionClaims {
  readonly #claims = new Map<string, Claim>();

  constructor(private readonly lock: RefreshLock) {}

  /**
   * Claim the transaction of `state` in this session for `provider`. A transaction of another
   * provider is left intact (a callback to the wrong provider must not consume it).
   */
  async claim(session: LiveSession, state: string, provider: string, code: string, now: number): Promise<ClaimResult> {
    const tx = peekTransaction(session, state, now);
    if (!tx || tx.provider !== provider) return { kind: 'rejected' };
    const key = stateKey(state);
    this.#prune(now);
    const existing = this.#claims.get(key);
    if (existing) {
      consumeTransaction(session, state);
      if (existing.sessionId === session.id && existing.code === code) return { kind: 'duplicate', tx, outcome: existing.outcome };
      return { kind: 'rejected' };
    }
    let settle!: (outcome: LoginOutcome) => void;
    const outcome = new Promise<LoginOutcome>((resolve) => (settle = resolve));
    this.#claims.set(key, { expiresAt: tx.createdAt + TRANSACTION_TTL_MS, sessionId: session.id, code, outcome });
    consumeTransaction(session, state);
    let crossProcess: unknown;
    try {
      crossProcess = await this.lock.acquire(`oauth-state:${key}`, Math.max(tx.createdAt + TRANSACTION_TTL_MS - now, 1000));
    } catch (err) {
      this.#claims.delete(key);
      settle({ sessionId: undefined });
      throw new SessionUnavailableError('The login lock is unavailable; try again shortly.', err);
    }
    if (!crossProcess) {
      settle({ sessionId: undefined });
      return { kind: 'rejected' };
    }
    return { kind: 'won', tx, settle };
  }

  #prune(now: number): void {
    if (this.#claims.size % 256 !== 0) return;
    for (const [k, c] of this.#claims) if (c.expiresAt <= now) this.#claims.delete(k);
    if (this.#claims.size >= MAX_CLAIMS) {
      const oldest = this.#claims.keys().next().value;
      if (oldest !== undefined) this.#claims.delete(oldest);
    }
  }
}
