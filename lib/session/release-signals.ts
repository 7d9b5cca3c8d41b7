import { debugFor } from '../debug.js';
import type { LockSubscriber } from './redis-commands.js';

const log = debugFor('lock');

interface Channel {
  wakes: Set<() => void>;
  /** Settles when Redis confirmed the subscription (rejects when it could not subscribe). */
  subscribed: Promise<void>;
}

/**
 * Release messages for the waiters of one lock instance: one subscriber connection, opened on the
 * first wait, with one subscription per lock key that somebody in this process waits for
 * (subscribed on the first waiter, unsubscribed after the last).
 */
export class ReleaseSignals {
  #subscriber: Promise<LockSubscriber> | undefined;
  readonly #channels = new Map<string, Channel>();
  /** Unsubscribes still on their way: a new subscription to the channel goes after them. */
  readonly #leaving = new Map<string, Promise<void>>();
  #closed = false;

  constructor(private readonly open: (onError: (err: Error) => void) => Promise<LockSubscriber>) {}

  /**
   * Call `wake` on every release published on `channel`. Resolves with the function that stops
   * listening once the subscription is confirmed; rejects when there is no subscriber connection
   * (closed, or Redis refused), in which case the caller polls.
   */
  async listen(channel: string, wake: () => void): Promise<() => void> {
    let entry = this.#channels.get(channel);
    if (!entry) {
      const wakes = new Set<() => void>();
      const fire = () => wakes.forEach((w) => w());
      const after = this.#leaving.get(channel) ?? Promise.resolve();
      entry = { wakes, subscribed: after.then(() => this.#connection()).then((sub) => sub.subscribe(channel, fire)) };
      this.#channels.set(channel, entry);
      const created = entry;
      created.subscribed.catch((err: unknown) => {
        log('could not subscribe to lock releases (polling instead): %s', (err as Error)?.message);
        if (this.#channels.get(channel) === created) this.#channels.delete(channel);
      });
    }
    entry.wakes.add(wake);
    const joined = entry;
    const stop = () => this.#leave(channel, joined, wake);
    try {
      await joined.subscribed;
    } catch (err) {
      stop();
      throw err;
    }
    return stop;
  }

  /** Close the subscriber connection; later waits poll only. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    this.#channels.clear();
    if (subscriber)
      await subscriber.then(
        (sub) => sub.close(),
        () => {},
      );
  }

  #leave(channel: string, entry: Channel, wake: () => void): void {
    entry.wakes.delete(wake);
    if (entry.wakes.size > 0 || this.#channels.get(channel) !== entry) return;
    this.#channels.delete(channel);
    const leaving = entry.subscribed
      .then(() => this.#subscriber)
      .then((sub) => sub?.unsubscribe(channel))
      .catch((err: unknown) => log('unsubscribe from lock releases failed: %s', (err as Error)?.message))
      .finally(() => this.#leaving.get(channel) === leaving && this.#leaving.delete(channel));
    this.#leaving.set(channel, leaving);
  }

  #connection(): Promise<LockSubscriber> {
    if (this.#closed) return Promise.reject(new Error('the lock was closed'));
    if (!this.#subscriber) {
      const opening = this.open((err) => log('lock subscriber connection: %s', err.message));
      this.#subscriber = opening;
      opening.catch(() => {
        if (this.#subscriber === opening) this.#subscriber = undefined; // the next wait tries again
      });
    }
    return this.#subscriber;
  }
}
