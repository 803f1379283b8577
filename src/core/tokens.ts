import type { Secret } from './secret.js';

/** An access token and when it stops working. */
export interface AccessToken {
  token: Secret;
  /** Epoch ms. */
  expiresAt: number;
  /**
   * Epoch ms after which the provider would refresh this token rather than hand it out (the
   * expiry minus the eager-refresh skew). A caller that caches the token itself (nodemailer's
   * XOAuth2 does) should ask again from then on.
   */
  refreshAt?: number;
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
   * `rejectedToken`, when the caller knows which token was refused, makes that precise: if the
   * provider already holds another one (a refresh made for another connection refused at the
   * same time), that one is returned instead of refreshing again.
   */
  getAccessToken(opts?: { forceRefresh?: boolean; rejectedToken?: Secret }): Promise<AccessToken>;
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

/**
 * A cross-process lock for stores that cannot lock themselves: whoever acquires it refreshes
 * the token, the others wait for that token to appear in the store. `acquire` must be atomic
 * (set-if-absent) and the lock must expire by itself after `ttlMs`, so a crashed holder does
 * not block the others for longer than that.
 */
export interface TokenLock {
  /** Takes the lock if nobody holds it; resolves whether it was taken. */
  acquire(key: string, ttlMs: number): Promise<boolean> | boolean;
  /** Gives the lock back (only called by the holder). */
  release(key: string): Promise<unknown> | unknown;
}
