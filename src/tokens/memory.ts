import type { TokenStore } from '../core/tokens.js';

/**
 * The default token store: a Map in this process with per-entry expiry. Tokens are not shared
 * with other processes; each process makes its own token request.
 */
export function createMemoryTokenStore(): TokenStore {
  const entries = new Map<string, { value: string; expiresAt: number }>();
  return {
    get(key) {
      const entry = entries.get(key);
      if (!entry) return undefined;
      if (entry.expiresAt <= Date.now()) {
        entries.delete(key);
        return undefined;
      }
      return entry.value;
    },
    set(key, value, ttlMs) {
      entries.set(key, { value, expiresAt: ttlMs !== undefined && ttlMs > 0 ? Date.now() + ttlMs : Infinity });
      return true;
    },
    delete(key) {
      return entries.delete(key);
    },
  };
}
