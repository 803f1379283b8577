import type { TokenStore } from '../tokens/types.js';
import { redisAdapterOf } from '../tokens/lock.js';
import { STORE_RETRY_AFTER_MS } from '../tokens/store.js';
import { describeFailure, withTimeout } from '../tokens/timing.js';
import { memoryLedger, type Ledger, type Usage, type Verdict } from './ledger.js';
import type { LedgerWarning } from './store.js';
import type { BudgetLimits } from './types.js';

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

// One ledger per store instance: transports given the same store share its per-key queues.
const shared = new WeakMap<object, Promise<Ledger>>();

/**
 * The ledger of a shared store, every call to it bounded. A store that fails or times out is
 * left alone for {@link STORE_RETRY_AFTER_MS}, with one `BUDGET_STORE_FAILED` warning, and this
 * process counts in its own memory meanwhile: an outage of the store never stops mail, and
 * never lets a process send without counting.
 */
export function sharedLedger(store: TokenStore, warn: LedgerWarning): Ledger {
  let loading = shared.get(store);
  if (!loading) {
    loading = loadSharedLedger(store);
    shared.set(store, loading);
  }
  return new GuardedLedger(loading, redisAdapterOf(store) ? 'redis' : 'keyv', warn);
}

async function loadSharedLedger(store: TokenStore): Promise<Ledger> {
  const adapter = redisAdapterOf(store);
  if (adapter) {
    const { RedisLedger } = await import('./redis-ledger.js');
    return new RedisLedger(adapter);
  }
  const { KeyvLedger } = await import('./keyv-ledger.js');
  return new KeyvLedger(store);
}

class GuardedLedger implements Ledger {
  readonly kind: 'keyv' | 'redis';
  readonly #ledger: Promise<Ledger>;
  readonly #warn: LedgerWarning;
  #downUntil = 0;
  #loaded: Ledger | undefined;

  constructor(ledger: Promise<Ledger>, kind: 'keyv' | 'redis', warn: LedgerWarning) {
    this.#ledger = ledger;
    this.kind = kind;
    this.#warn = warn;
  }

  async reserve(key: string, recipients: number, limits: BudgetLimits, now: number): Promise<Verdict> {
    const done = await this.#call((l) => l.reserve(key, recipients, limits, now), 'reserving in');
    const [ledger, verdict] = done ?? [memoryLedger, memoryLedger.reserve(key, recipients, limits, now)];
    return verdict.ok ? { ...verdict, handle: { ledger, handle: verdict.handle } satisfies Held } : verdict;
  }

  async release(key: string, handle: unknown): Promise<void> {
    const held = handle as Held;
    if (held.ledger === memoryLedger) memoryLedger.release(key, held.handle);
    else await this.#call((l) => l.release(key, held.handle), 'releasing in');
  }

  async markSpent(key: string, until: number, now: number): Promise<void> {
    // Memory too: this process stops even when the store cannot take it.
    memoryLedger.markSpent(key, until);
    await this.#call((l) => l.markSpent(key, until, now), 'writing to');
  }

  async usage(key: string, now: number): Promise<Usage> {
    const done = await this.#call((l) => l.usage(key, now), 'reading');
    return done ? done[1] : memoryLedger.usage(key, now);
  }

  /** Runs a call on the shared ledger, bounded; `undefined` while the store is down or when it fails. */
  async #call<T>(work: (ledger: Ledger) => T | Promise<T>, what: string): Promise<[Ledger, T] | undefined> {
    if (Date.now() < this.#downUntil) return undefined;
    try {
      const ledger = (this.#loaded ??= await this.#ledger);
      return [ledger, await withTimeout(work(ledger), BUDGET_STORE_TIMEOUT_MS, `budget store ${what}`)];
    } catch (err) {
      const wasUp = Date.now() >= this.#downUntil;
      this.#downUntil = Date.now() + STORE_RETRY_AFTER_MS;
      // One warning per outage, not one per send.
      if (wasUp) this.#warn('BUDGET_STORE_FAILED', `${what} the budget store failed (${describeFailure(err)}); counting in this process's memory for ${STORE_RETRY_AFTER_MS / 1000} s`);
      return undefined;
    }
  }
}
