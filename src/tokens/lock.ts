import { randomUUID } from 'node:crypto';
import type { TokenLock, TokenStore } from '../core/tokens.js';

/** A lock as the provider uses it; `acquire` resolves whether this process holds it. */
export interface RefreshLock {
  /** Where the lock comes from, for the README's "when one request per process happens". */
  readonly kind: 'explicit' | 'redis';
  acquire(key: string, ttlMs: number): Promise<boolean>;
  release(key: string): Promise<void>;
}

/** The part of a node-redis (v4/v5) client the lock needs. */
export interface RedisLikeClient {
  set(key: string, value: string, options: { NX: true; PX: number }): Promise<unknown>;
  eval?(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  del?(key: string): Promise<unknown>;
}

/** The part of a @keyv/redis adapter the lock needs: it exposes its connected client. */
export interface KeyvRedisLike {
  getClient(): Promise<RedisLikeClient>;
  client: unknown;
}

// Deletes the lock only if it still holds our value: after our TTL ran out, another process
// may hold it (the "safe release" of https://redis.io/docs/latest/commands/set/).
const RELEASE_SCRIPT = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/**
 * The lock for a store: the caller's explicit `tokenLock`, else `SET key value NX PX ttl` on the
 * Redis client under a Keyv + @keyv/redis store (recognised by shape), else none: a plain
 * memory store or a bare `{ get, set, delete }` cannot lock, and then each process may make one
 * token request of its own.
 */
export function resolveRefreshLock(store: TokenStore | undefined, explicit: TokenLock | undefined): RefreshLock | undefined {
  if (explicit) {
    return {
      kind: 'explicit',
      acquire: async (key, ttlMs) => (await explicit.acquire(key, ttlMs)) === true,
      release: async (key) => {
        await explicit.release(key);
      },
    };
  }
  const adapter = redisAdapterOf(store);
  if (!adapter) return undefined;
  const owner = randomUUID();
  return {
    kind: 'redis',
    async acquire(key, ttlMs) {
      const client = await adapter.getClient();
      if (typeof client?.set !== 'function') return false;
      return (await client.set(key, owner, { NX: true, PX: ttlMs })) === 'OK';
    },
    async release(key) {
      const client = await adapter.getClient();
      if (typeof client.eval === 'function') await client.eval(RELEASE_SCRIPT, { keys: [key], arguments: [owner] });
      // Without EVAL the lock simply expires after its TTL.
    },
  };
}

/** The @keyv/redis adapter under a store (Keyv instance or the adapter itself), recognised by shape. */
export function redisAdapterOf(store: TokenStore | undefined): KeyvRedisLike | undefined {
  if (typeof store !== 'object' || store === null) return undefined;
  const s = store as unknown as { store?: unknown; opts?: { store?: unknown } };
  for (const candidate of [s.store, s.opts?.store, store]) {
    if (typeof candidate !== 'object' || candidate === null) continue;
    const c = candidate as Partial<KeyvRedisLike>;
    if (typeof c.getClient === 'function' && typeof c.client === 'object' && c.client !== null && typeof (c.client as { set?: unknown }).set === 'function') {
      return c as KeyvRedisLike;
    }
  }
  return undefined;
}
