import type { LockOutcome, ManualSpan, Telemetry } from '../telemetry/telemetry.js';
import { ATTR } from '../telemetry/attributes.js';

/**
 * The wait for a login's refresh lock, from the first `acquire` to holding the lease, to another
 * worker's result (`reused`), or to giving up: the `oauth2.refresh.lock_wait` span and the
 * `oauth2.refresh.lock_wait.duration` histogram. Ends once; later calls are ignored.
 */
export class LockWait {
  readonly #telemetry: Telemetry;
  readonly #provider: string;
  readonly #span: ManualSpan;
  readonly #started: number;
  #ended = false;

  constructor(telemetry: Telemetry, provider: string) {
    this.#telemetry = telemetry;
    this.#provider = provider;
    this.#started = telemetry.enabled ? performance.now() : 0;
    this.#span = telemetry.startSpan('oauth2.refresh.lock_wait', { [ATTR.provider]: provider });
  }

  end(outcome: LockOutcome, err?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    if (!this.#telemetry.enabled) return;
    this.#span.set(ATTR.lockOutcome, outcome);
    this.#span.end(err);
    this.#telemetry.recordLockWait(this.#provider, (performance.now() - this.#started) / 1000, outcome);
  }
}
