import type { TokenStore } from '../core/tokens.js';
import { redisAdapterOf } from '../tokens/lock.js';
import { STORE_RETRY_AFTER_MS } from '../tokens/store.js';
import { describeFailure } from '../tokens/timing.js';
import { memoryLedger, type Ledger, type Usage, type Verdict } from './ledger.js';
import { KeyvLedger } from './keyv-ledger.js';
import { RedisLedger } from './redis-ledger.js';
import type { LedgerWarning } from './store.js';
import type { BudgetLimits } from '../core/budget.js';

/**
 * Bound on every call to a shared budget store. Longer than the token store's: every message
 * makes a call, and a burst of a few thousand sends queues that many calls on one connection
 * behind each other. A store that hangs still costs one wait per outage (see below), not one
 * per message.
 */
export const BUDGET_STORE_TIMEOUT_MS = 5_000;

/** A reservation and the ledger that made it (the shared one, or memory while it was down). */
interface Held {
  ledger: Ledger;
  handle: unknown;
}

// One ledger per store instance: transports given the same store share its per-key queues and
// its batches of reservations.
const shared = new WeakMap<object, Ledger>();

/**
 * The ledger of a shared store (each of its calls bounded by {@link BUDGET_STORE_TIMEOUT_MS}),
 * behind a guard: a store that fails or times out is left alone for {@link STORE_RETRY_AFTER_MS},
 * with one `BUDGET_STORE_FAILED` warning, and this process counts in its own memory meanwhile.
 * An outage of the store never stops mail, and never lets a process send without counting.
 */
export function sharedLedger(store: TokenStore, warn: LedgerWarning, now: () => number): Ledger {
  let ledger = shared.get(store);
  if (!ledger) {
    const adapter = redisAdapterOf(store);
    ledger = adapter ? new RedisLedger(adapter, BUDGET_STORE_TIMEOUT_MS) : new KeyvLedger(store, BUDGET_STORE_TIMEOUT_MS);
    shared.set(store, ledger);
  }
  return new GuardedLedger(ledger, warn, now);
}

class GuardedLedger implements Ledger {
  readonly #ledger: Ledger;
  readonly #warn: LedgerWarning;
  /** The transport's clock: how long a failed store is left alone. */
  readonly #now: () => number;
  #downUntil = 0;

  constructor(ledger: Ledger, warn: LedgerWarning, now: () => number) {
    this.#ledger = ledger;
    this.#warn = warn;
    this.#now = now;
  }

  get kind(): Ledger['kind'] {
    return this.#ledger.kind;
  }

  reserve(key: string, recipients: number, limits: BudgetLimits, now: number): Promise<Verdict> {
    const local = (): Verdict => held(memoryLedger, memoryLedger.reserve(key, recipients, limits, now));
    if (this.#resting()) return Promise.resolve(local());
    return this.#attempt(() => this.#ledger.reserve(key, recipients, limits, now)).then(
      (verdict) => held(this.#ledger, verdict),
      (err: unknown) => {
        this.#fail(err, 'reserving in');
        return local();
      },
    );
  }

  async release(key: string, handle: unknown): Promise<void> {
    const { ledger, handle: inner } = handle as Held;
    if (ledger === memoryLedger) return memoryLedger.release(key, inner);
    if (this.#resting()) return;
    await this.#attempt(() => ledger.release(key, inner)).catch((err: unknown) => this.#fail(err, 'releasing in'));
  }

  async markSpent(key: string, until: number, now: number): Promise<void> {
    // Memory too: this process stops even when the store cannot take it.
    memoryLedger.markSpent(key, until);
    if (this.#resting()) return;
    await this.#attempt(() => this.#ledger.markSpent(key, until, now)).catch((err: unknown) => this.#fail(err, 'writing to'));
  }

  async usage(key: string, now: number): Promise<Usage> {
    if (this.#resting()) return memoryLedger.usage(key, now);
    try {
      return await this.#attempt(() => this.#ledger.usage(key, now));
    } catch (err) {
      this.#fail(err, 'reading');
      return memoryLedger.usage(key, now);
    }
  }

  /** Whether the store failed lately and is being left alone. */
  #resting(): boolean {
    return this.#now() < this.#downUntil;
  }

  /** The call's result as a promise, a synchronous throw included. */
  #attempt<T>(call: () => T | Promise<T>): Promise<T> {
    try {
      return Promise.resolve(call());
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #fail(err: unknown, what: string): void {
    const wasUp = !this.#resting();
    this.#downUntil = this.#now() + STORE_RETRY_AFTER_MS;
    // One warning per outage, not one per send.
    if (wasUp)
      this.#warn(
        'BUDGET_STORE_FAILED',
        `${what} the budget store failed (${describeFailure(err)}); counting in this process's memory for ${STORE_RETRY_AFTER_MS / 1000} s`,
      );
  }
}

/** A counted verdict's handle, marked with the ledger that counted it. */
function held(ledger: Ledger, verdict: Verdict): Verdict {
  return verdict.ok ? { ok: true, usage: verdict.usage, handle: { ledger, handle: verdict.handle } satisfies Held } : verdict;
}
