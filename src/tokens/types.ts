import type { Secret } from '../internal/secret.js';

/** An access token and when it stops working. */
export interface AccessToken {
  token: Secret;
  /** Epoch ms. */
  expiresAt: number;
}

/**
 * Hands out access tokens for one (client, user, scopes). Implementations share one refresh
 * between concurrent callers and keep the token in a store.
 */
export interface AccessTokenSource {
  readonly user: string;
  /**
   * A token with more than the skew left. `forceRefresh` is asked when the server refused the
   * token it was given: the cached one is dropped and a new one fetched (once, shared).
   */
  getAccessToken(opts?: { forceRefresh?: boolean }): Promise<AccessToken>;
}

/**
 * The store interface tokens are cached in. A Keyv instance fits as it is; so does any object
 * with these three methods. TTLs are in milliseconds.
 */
export interface TokenStore {
  get(key: string): Promise<unknown> | unknown;
  set(key: string, value: string, ttlMs?: number): Promise<unknown> | unknown;
  delete(key: string): Promise<unknown> | unknown;
}
