/**
 * Counts failed logins per source address and locks an address out once it reaches the limit.
 * Failures older than the lockout window are forgotten, a successful login clears the count.
 *
 * IPv6 addresses are keyed whole, not by /64: on a LAN every device shares one /64, and one
 * misconfigured printer must not lock out the others.
 */
export class AuthLockout {
  readonly #failures = new Map<string, { count: number; firstAt: number; lockedUntil?: number }>();
  readonly #limit: number;
  readonly #windowMs: number;
  // Bound the table: a scan from many addresses must not grow memory without end.
  readonly #maxEntries: number;

  constructor(limit: number, windowMs: number, maxEntries = 10_000) {
    this.#limit = limit;
    this.#windowMs = windowMs;
    this.#maxEntries = maxEntries;
  }

  /** The time (ms since epoch) the address is locked out until, or `undefined`. */
  lockedUntil(address: string, now = Date.now()): number | undefined {
    const entry = this.#failures.get(address);
    if (!entry?.lockedUntil) return undefined;
    if (entry.lockedUntil > now) return entry.lockedUntil;
    this.#failures.delete(address);
    return undefined;
  }

  /** Records a failure; returns the lockout end when this failure started a lockout. */
  recordFailure(address: string, now = Date.now()): { failures: number; lockedUntil?: number } {
    let entry = this.#failures.get(address);
    if (!entry || now - entry.firstAt > this.#windowMs || (entry.lockedUntil !== undefined && entry.lockedUntil <= now)) {
      entry = { count: 0, firstAt: now };
      this.#failures.delete(address);
      this.#prune(now);
      this.#failures.set(address, entry);
    }
    entry.count++;
    if (entry.count >= this.#limit && entry.lockedUntil === undefined) {
      entry.lockedUntil = now + this.#windowMs;
      return { failures: entry.count, lockedUntil: entry.lockedUntil };
    }
    return { failures: entry.count };
  }

  recordSuccess(address: string): void {
    this.#failures.delete(address);
  }

  #prune(now: number): void {
    if (this.#failures.size < this.#maxEntries) return;
    for (const [key, entry] of this.#failures) {
      if ((entry.lockedUntil ?? entry.firstAt + this.#windowMs) <= now) this.#failures.delete(key);
    }
    // Still full of live entries: drop the oldest (Map keeps insertion order).
    while (this.#failures.size >= this.#maxEntries) {
      const oldest = this.#failures.keys().next().value;
      if (oldest === undefined) break;
      this.#failures.delete(oldest);
    }
  }
}
