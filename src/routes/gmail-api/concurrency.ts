/**
 * Caps the Gmail API requests in flight per mailbox, across every transport of the process that
 * sends as that mailbox: Google's per-user limits count the mailbox, not our transport objects.
 * When transports of one mailbox ask for different caps, the smallest applies (the safe side
 * of a limit they share).
 */
class MailboxLimiter {
  readonly #limits = new Map<symbol, number>();
  readonly #waiting: Array<() => void> = [];
  active = 0;

  get limit(): number {
    let min = Infinity;
    for (const value of this.#limits.values()) min = Math.min(min, value);
    return Number.isFinite(min) ? min : 1;
  }

  get registrations(): number {
    return this.#limits.size;
  }

  register(limit: number): symbol {
    const id = Symbol('gmail-api-route');
    this.#limits.set(id, limit);
    return id;
  }

  unregister(id: symbol): void {
    this.#limits.delete(id);
    this.#drain();
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.active++;
    }
    try {
      return await task();
    } finally {
      this.active--;
      this.#drain();
    }
  }

  #drain(): void {
    // A slot is handed over (active stays counted) so that a caller arriving meanwhile cannot
    // overtake the queue.
    while (this.#waiting.length > 0 && this.active < this.limit) {
      this.active++;
      this.#waiting.shift()!();
    }
  }
}

const limiters = new Map<string, MailboxLimiter>();

/** One route's hold on the shared limiter of its mailbox. */
export interface MailboxSlot {
  run<T>(task: () => Promise<T>): Promise<T>;
  /** Requests of every transport for this mailbox in flight now. */
  readonly active: number;
  release(): void;
}

/**
 * Joins the limiter of a mailbox (`key` names the API base and the mailbox, lower-cased).
 * `release()` leaves it; the limiter is dropped when its last route left and nothing is in flight.
 */
export function joinMailboxLimiter(key: string, maxConcurrent: number): MailboxSlot {
  let limiter = limiters.get(key);
  if (!limiter) {
    limiter = new MailboxLimiter();
    limiters.set(key, limiter);
  }
  const shared = limiter;
  const id = shared.register(maxConcurrent);
  let released = false;
  return {
    run: (task) => shared.run(task),
    get active() {
      return shared.active;
    },
    release() {
      if (released) return;
      released = true;
      shared.unregister(id);
      if (shared.registrations === 0 && shared.active === 0 && limiters.get(key) === shared) limiters.delete(key);
    },
  };
}
