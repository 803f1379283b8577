/** The account key failures against unknown user names are counted under. */
export const UNKNOWN_ACCOUNT = '\0unknown';

interface Entry {
  /** Failures per account tried (unknown user names under {@link UNKNOWN_ACCOUNT}). */
  byAccount: Map<string, number>;
  /** All failures in the window, whatever account they tried. */
  failures: number;
  /** Password checks running now; each holds one failure in reserve. */
  pending: number;
  firstAt: number;
  lockedUntil?: number;
}

/**
 * Counts failed logins per source address, whichever account they tried, and locks an address
 * out once it reaches the limit. A successful login clears only that account's own failures at
 * that address: a device that knows one password cannot buy another account's guesses with it.
 * A login reserves a failure before its password is checked, so concurrent attempts never run
 * more checks than the limit. Failures older than the lockout window are forgotten.
 *
 * IPv6 addresses are keyed whole, not by /64: on a LAN every device shares one /64, and one
 * misconfigured printer must not lock out the others.
 */
export class AuthLockout {
  readonly #entries = new Map<string, Entry>();
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
    return this.#current(address, now)?.lockedUntil;
  }

  /** The addresses locked out now, with when each lockout ends. */
  lockedOut(now = Date.now()): Array<{ address: string; until: number; failures: number }> {
    const out: Array<{ address: string; until: number; failures: number }> = [];
    for (const address of [...this.#entries.keys()]) {
      const entry = this.#current(address, now);
      if (entry?.lockedUntil !== undefined) out.push({ address, until: entry.lockedUntil, failures: entry.failures });
    }
    return out;
  }

  /**
   * Lifts an address's lockout and forgets its failures (an administrator fixed the device's
   * password). `false` when it was not locked out.
   */
  unlock(address: string, now = Date.now()): boolean {
    const entry = this.#current(address, now);
    if (entry?.lockedUntil === undefined) return false;
    // A check still running settles into a fresh entry (see #settle).
    this.#entries.delete(address);
    return true;
  }

  /**
   * Reserves one failure for a password check about to run. `false` when the address is locked
   * out, or when its failures plus the checks already running reach the limit: the caller
   * refuses the attempt without checking. Every `true` is settled by exactly one of
   * {@link recordFailure}, {@link recordSuccess} or {@link release}.
   */
  reserve(address: string, now = Date.now()): boolean {
    let entry = this.#current(address, now);
    if (entry?.lockedUntil !== undefined || (entry && entry.failures + entry.pending >= this.#limit)) return false;
    if (!entry) {
      this.#prune(now);
      entry = { byAccount: new Map(), failures: 0, pending: 0, firstAt: now };
      this.#entries.set(address, entry);
    }
    entry.pending++;
    return true;
  }

  /** Turns a reservation into a failure; returns the lockout end when this failure started one. */
  recordFailure(address: string, account: string, now = Date.now()): { failures: number; lockedUntil?: number } {
    const entry = this.#settle(address, now);
    entry.failures++;
    entry.byAccount.set(account, (entry.byAccount.get(account) ?? 0) + 1);
    if (entry.failures >= this.#limit && entry.lockedUntil === undefined) {
      entry.lockedUntil = now + this.#windowMs;
      return { failures: entry.failures, lockedUntil: entry.lockedUntil };
    }
    return { failures: entry.failures };
  }

  /** Settles a reservation as a good login: clears that account's failures at the address. */
  recordSuccess(address: string, account: string, now = Date.now()): void {
    const entry = this.#settle(address, now);
    entry.failures -= entry.byAccount.get(account) ?? 0;
    entry.byAccount.delete(account);
    this.#dropIfEmpty(address, entry);
  }

  /** Gives a reservation back without a verdict (the check itself failed). */
  release(address: string, now = Date.now()): void {
    this.#dropIfEmpty(address, this.#settle(address, now));
  }

  /** The address's entry, after forgetting a window or a lockout that has passed. */
  #current(address: string, now: number): Entry | undefined {
    const entry = this.#entries.get(address);
    if (!entry) return undefined;
    const over = entry.lockedUntil !== undefined ? entry.lockedUntil <= now : now - entry.firstAt > this.#windowMs;
    if (!over) return entry;
    // Checks still running keep their reservations in a fresh window.
    if (entry.pending > 0) {
      const fresh: Entry = { byAccount: new Map(), failures: 0, pending: entry.pending, firstAt: now };
      this.#entries.set(address, fresh);
      return fresh;
    }
    this.#entries.delete(address);
    return undefined;
  }

  #settle(address: string, now: number): Entry {
    let entry = this.#current(address, now);
    if (!entry) {
      // Pruned while its check ran: count the verdict in a fresh entry.
      entry = { byAccount: new Map(), failures: 0, pending: 1, firstAt: now };
      this.#entries.set(address, entry);
    }
    entry.pending = Math.max(0, entry.pending - 1);
    return entry;
  }

  #dropIfEmpty(address: string, entry: Entry): void {
    if (entry.failures <= 0 && entry.pending === 0 && entry.lockedUntil === undefined) this.#entries.delete(address);
  }

  #prune(now: number): void {
    if (this.#entries.size < this.#maxEntries) return;
    for (const [key, entry] of this.#entries) {
      if (entry.pending === 0 && (entry.lockedUntil ?? entry.firstAt + this.#windowMs) <= now) this.#entries.delete(key);
    }
    // Still full of live entries: drop the oldest (Map keeps insertion order).
    while (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }
}
