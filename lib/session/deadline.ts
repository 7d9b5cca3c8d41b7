import { SessionUnavailableError } from '../errors.js';

/**
 * How long a store or lock call may take. A request's calls share one budget (SPEC §7: one time
 * budget per request, `httpTimeoutMs`), so a request that makes several store and lock calls
 * never outlives the budget by more than one call's scheduling; work outside a request (a
 * background job's client, a write retried after the request answered) gives each call the
 * whole timeout.
 */
export interface Deadline {
  /** The ms the next call may take; throws `SessionUnavailableError` (503) when none is left. */
  remainingMs(what: string): number;
}

/**
 * One request's budget. It starts at the first call made against it, not when it is created:
 * `req.oauth` is made on first access, and a handler's own slow work before its first store
 * call does not count against the package's budget.
 */
export class RequestBudget implements Deadline {
  #endsAt: number | undefined;

  constructor(
    private readonly budgetMs: number,
    private readonly now: () => number = () => Date.now(),
  ) {}

  remainingMs(what: string): number {
    const now = this.now();
    this.#endsAt ??= now + this.budgetMs;
    const left = this.#endsAt - now;
    if (left <= 0) throw new SessionUnavailableError(`The session store could not ${what}: the request's ${this.budgetMs} ms budget (httpTimeoutMs) is used up.`);
    return left;
  }
}

/** Each call gets the whole timeout (outside a request). */
export class PerCallDeadline implements Deadline {
  constructor(private readonly timeoutMs: number) {}

  remainingMs(): number {
    return this.timeoutMs;
  }
}
