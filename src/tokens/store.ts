import type { TokenStore } from '../core/tokens.js';
import { createMemoryTokenStore } from './memory.js';
import { describeFailure, withTimeout } from './timing.js';
import { isTokenStoreLike } from './recognize.js';

/** How long a store that failed is left alone before it is tried again. */
export const STORE_RETRY_AFTER_MS = 30_000;

/** A store problem, reported as a transporter `warning` (never carrying a value or key). */
export type StoreWarning = (code: string, message: string) => void;

/**
 * Whether a store is a Keyv instance, judged by its shape: the instance a user passes may come
 * from another copy or major of keyv than ours, where `instanceof` fails.
 */
export function isKeyvLike(value: unknown): value is TokenStore & { on?: (event: string, listener: (err: unknown) => void) => unknown } {
  if (!isTokenStoreLike(value)) return false;
  const v = value as unknown as Record<string, unknown>;
  return typeof v.opts === 'object' && v.opts !== null && 'store' in (v.opts as object) && typeof v.on === 'function';
}

/**
 * A token store as the provider uses it: every call bounded by a timeout, a read failure is a
 * miss, a write failure a `warning`, and a store that failed is skipped for
 * {@link STORE_RETRY_AFTER_MS} so that an outage costs one timeout, not one per send. Mail
 * never waits on a broken store: the provider keeps its token in memory either way.
 */
export class GuardedStore {
  readonly raw: TokenStore;
  readonly shared: boolean;
  readonly #timeoutMs: number;
  readonly #warn: StoreWarning;
  #downUntil = 0;

  /** The provider's clock: how long a failed store is left alone. */
  readonly #now: () => number;

  constructor(raw: TokenStore | undefined, timeoutMs: number, warn: StoreWarning, now: () => number) {
    this.#now = now;
    this.raw = raw ?? createMemoryTokenStore();
    this.shared = raw !== undefined;
    this.#timeoutMs = timeoutMs;
    this.#warn = warn;
    if (raw && isKeyvLike(raw)) {
      // Keyv swallows adapter errors (get resolves undefined, set false) and reports them as
      // 'error' events; listening turns them into warnings instead of silence.
      raw.on?.('error', (err: unknown) => this.#markDown('TOKEN_STORE_ERROR', `the token store reported an error (${describeFailure(err)})`));
    }
  }

  /** Whether the store is in use (not resting after a failure). */
  get available(): boolean {
    return this.#now() >= this.#downUntil;
  }

  /** The stored value, or `undefined` on a miss, a failure or a timeout. */
  async get(key: string): Promise<unknown> {
    if (!this.available) return undefined;
    try {
      const value = await withTimeout(this.raw.get(key), this.#timeoutMs, 'token store get');
      return value ?? undefined;
    } catch (err) {
      this.#markDown('TOKEN_STORE_READ_FAILED', `reading the token store failed (${describeFailure(err)})`);
      return undefined;
    }
  }

  /** Stores a value; resolves whether it was written. */
  async set(key: string, value: string, ttlMs: number): Promise<boolean> {
    if (!this.available) return false;
    try {
      const result = await withTimeout(this.raw.set(key, value, ttlMs), this.#timeoutMs, 'token store set');
      // Keyv resolves false when its adapter failed.
      if (result === false) throw Object.assign(new Error('write refused'), { code: 'SET_FALSE' });
      return true;
    } catch (err) {
      this.#markDown('TOKEN_STORE_WRITE_FAILED', `writing the token store failed (${describeFailure(err)})`);
      return false;
    }
  }

  async delete(key: string): Promise<void> {
    if (!this.available) return;
    try {
      await withTimeout(this.raw.delete(key), this.#timeoutMs, 'token store delete');
    } catch (err) {
      this.#markDown('TOKEN_STORE_WRITE_FAILED', `deleting from the token store failed (${describeFailure(err)})`);
    }
  }

  /** Runs a call to the lock behind the same timeout; `undefined` when it failed. */
  async guard<T>(work: () => Promise<T> | T, what: string): Promise<T | undefined> {
    if (!this.available) return undefined;
    try {
      return await withTimeout(work(), this.#timeoutMs, what);
    } catch (err) {
      this.#markDown('TOKEN_LOCK_FAILED', `the token lock failed (${describeFailure(err)}); refreshing without it`);
      return undefined;
    }
  }

  #markDown(code: string, message: string): void {
    const wasUp = this.available;
    this.#downUntil = this.#now() + STORE_RETRY_AFTER_MS;
    // One warning per outage, not one per send.
    if (wasUp) this.#warn(code, `${message}; using this process's memory for ${STORE_RETRY_AFTER_MS / 1000} s`);
  }
}
