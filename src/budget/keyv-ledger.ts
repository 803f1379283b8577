import type { TokenStore } from '../core/tokens.js';
import { withTimeout } from '../tokens/timing.js';
import { addEntry, decide, removeEntry, type Entries, type Ledger, type Usage, type Verdict } from './ledger.js';
import { WINDOW_MS } from './limits.js';
import type { BudgetLimits } from '../core/budget.js';

/**
 * A ledger in any Keyv store (or `{ get, set, delete }`): each key's entries as one JSON value
 * that lives as long as the window. A store without scripts or transactions cannot decide and
 * count in one step, so two processes may both take the last message; within this process the
 * calls of one key run one after another, and none is lost. Redis gets the atomic ledger
 * (redis-ledger.ts).
 */
export class KeyvLedger implements Ledger {
  readonly kind = 'keyv';
  readonly #store: TokenStore;
  /** The last operation queued per key: each waits for the one before. */
  readonly #queues = new Map<string, Promise<unknown>>();

  readonly #timeoutMs: number;

  /** `timeoutMs` bounds each call to the store. */
  constructor(store: TokenStore, timeoutMs: number) {
    this.#store = store;
    this.#timeoutMs = timeoutMs;
  }

  reserve(key: string, recipients: number, limits: BudgetLimits, now: number): Promise<Verdict> {
    return this.#update(key, (entries): Verdict => {
      const { waitMs, usage } = decide(entries, recipients, limits, now);
      if (waitMs > 0) return { ok: false, usage, waitMs };
      const handle = addEntry(entries, now, recipients);
      return { ok: true, usage: { ...usage, messages: usage.messages + 1, recipients: usage.recipients + recipients }, handle };
    });
  }

  async release(key: string, handle: unknown): Promise<void> {
    await this.#update(key, (entries) => removeEntry(entries, handle));
  }

  async markSpent(key: string, until: number): Promise<void> {
    await this.#update(key, (entries) => {
      entries.spentUntil = Math.max(entries.spentUntil, until);
    });
  }

  async usage(key: string, now: number): Promise<Usage> {
    return decide(await this.#read(key), 0, {}, now).usage;
  }

  #update<T>(key: string, change: (entries: Entries) => T): Promise<T> {
    const previous = this.#queues.get(key) ?? Promise.resolve();
    const next = previous
      .catch(() => undefined)
      .then(async () => {
        const entries = await this.#read(key);
        const result = change(entries);
        const written = await withTimeout(
          this.#store.set(key, JSON.stringify({ t: entries.times, r: entries.recipients, s: entries.spentUntil }), WINDOW_MS),
          this.#timeoutMs,
          'budget store set',
        );
        // Keyv resolves false when its adapter failed.
        if (written === false) throw Object.assign(new Error('write refused'), { code: 'SET_FALSE' });
        return result;
      });
    this.#queues.set(key, next);
    void next
      .finally(() => {
        if (this.#queues.get(key) === next) this.#queues.delete(key);
      })
      .catch(() => undefined);
    return next;
  }

  async #read(key: string): Promise<Entries> {
    const raw = await withTimeout(this.#store.get(key), this.#timeoutMs, 'budget store get');
    if (typeof raw !== 'string') return { times: [], recipients: [], spentUntil: 0 };
    try {
      const value = JSON.parse(raw) as { t?: unknown; r?: unknown; s?: unknown };
      const times = Array.isArray(value.t) ? value.t.filter((v): v is number => typeof v === 'number') : [];
      const recipients = Array.isArray(value.r) ? value.r.filter((v): v is number => typeof v === 'number') : [];
      if (times.length !== recipients.length) return { times: [], recipients: [], spentUntil: 0 };
      return { times, recipients, spentUntil: typeof value.s === 'number' ? value.s : 0 };
    } catch {
      return { times: [], recipients: [], spentUntil: 0 };
    }
  }
}
