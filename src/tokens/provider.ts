import type { Locale } from '../errors/hints.js';
import type { TransportEvents } from '../core/events.js';
import type { StrategyContext } from '../core/context.js';
import { Secret } from '../core/secret.js';
import type { OAuthSettings } from './oauth-config.js';
import type { AccessToken } from '../core/tokens.js';
import { createTokenCodec, type DecodeFailure, type StoredToken, type TokenCodec } from './crypto.js';
import { GuardedStore } from './store.js';
import { resolveRefreshLock, type RefreshLock } from './lock.js';
import { createGoogleFetcher, type TokenFetcher } from './google.js';
import { TokenFailure, classifyTokenError } from './failure.js';
import { storeKeyOf, tokenLockKey } from './keys.js';
import { withTimeout } from './timing.js';
import { fullJitterDelay, systemClock, type Clock } from '../core/clock.js';

type Emit = StrategyContext['emit'];

/** One request for a token, from one transport. */
export interface TokenCall {
  emit: Emit;
  strategy: string;
  locale: Locale;
  forceRefresh: boolean;
  /** With `forceRefresh`: the token the server refused, when the caller knows it. */
  rejectedToken?: string;
}

interface Held extends StoredToken {
  /** When the provider stops handing this token out and refreshes instead. */
  refreshAt: number;
  obtainedAt: number;
  /** Obtained by a forced refresh, i.e. in answer to a server refusing the previous token. */
  forced: boolean;
}

interface Flight {
  promise: Promise<Held>;
  /** Every transport waiting on this refresh, to receive its `token` event and warnings. */
  callers: Map<Emit, string>;
}

/** Bound on one token request; a slower answer counts as a transient failure. */
const REQUEST_TIMEOUT_MS = 10_000;
const MAX_ATTEMPTS = 4;
const BACKOFF_BASE_MS = 250;
const BACKOFF_MAX_MS = 4_000;
/** No retry starts after this long: a refresh fails within about this plus one request timeout. */
const MAX_ELAPSED_MS = 30_000;
/** The lock outlives the longest refresh, so a waiter never takes over a refresh still running. */
const LOCK_TTL_MS = MAX_ELAPSED_MS + REQUEST_TIMEOUT_MS;
const LOCK_POLL_MS = 100;
/** A forced refresh younger than this answers other connections that refused the same old token. */
const FORCED_REUSE_MS = 10_000;
/** When a refresh fails transiently, a token with at least this much left is handed out still. */
const MIN_LEFT_FOR_FALLBACK_MS = 60_000;

const DECODE_WARNINGS: Record<DecodeFailure, string> = {
  tampered: 'a stored token failed its integrity check (another tokenEncryptionKey, or the value was altered); it was ignored',
  'not-sealed': 'a stored token is not encrypted although tokenEncryptionKey is set; it was ignored',
  'sealed-without-key': 'a stored token is encrypted but no tokenEncryptionKey is set; it was ignored',
  malformed: 'a stored token value could not be read; it was ignored',
};

/**
 * The token lifecycle for one (client, user, scopes, store): a token in memory handed out while
 * more than `eagerRefreshMs` is left; one refresh at a time, shared by every caller (every
 * connection of a pool, every transport with these credentials); tokens shared through the
 * store, with a cross-process lock where the store has one; transient failures retried with
 * backoff and full jitter within a bound.
 */
export class TokenProvider {
  readonly #settings: OAuthSettings;
  readonly #key: string;
  readonly #lockKey: string;
  readonly #store: GuardedStore;
  readonly #lock: RefreshLock | undefined;
  readonly #codec: TokenCodec;
  readonly #fetcher: TokenFetcher;
  readonly #clock: Clock;
  readonly #recent = new Map<Emit, string>();
  #held: Held | undefined;
  #flight: Flight | undefined;

  constructor(settings: OAuthSettings, options: { fetcher?: TokenFetcher; clock?: Clock } = {}) {
    this.#settings = settings;
    this.#key = storeKeyOf(settings);
    this.#lockKey = tokenLockKey(this.#key);
    const { cache } = settings;
    this.#clock = options.clock ?? systemClock;
    this.#store = new GuardedStore(
      cache.store,
      cache.storeTimeoutMs,
      (code, message) => this.#warn(this.#flight?.callers ?? this.#recent, code, message),
      () => this.#clock.now(),
    );
    this.#lock = resolveRefreshLock(cache.store, cache.lock);
    this.#codec = createTokenCodec(cache.encryptionKey);
    this.#fetcher = options.fetcher ?? createGoogleFetcher(settings);
  }

  async getAccessToken(call: TokenCall): Promise<AccessToken> {
    this.#remember(call);
    try {
      const held = await this.#obtain(call);
      return { token: new Secret(held.token), expiresAt: held.expiresAt, refreshAt: held.refreshAt };
    } catch (err) {
      const failure = err instanceof TokenFailure ? err : new TokenFailure('Unexpected failure while obtaining an access token', 'UNKNOWN', false);
      throw failure.toTransportError(call.strategy, call.locale);
    }
  }

  async #obtain(call: TokenCall): Promise<Held> {
    if (!call.forceRefresh) {
      const held = this.#held;
      if (held && this.#clock.now() < held.refreshAt) return held;
      return this.#flight ? this.#join(call) : this.#start(call, false, held);
    }
    // The server refused the token it was given (nodemailer's renew after the XOAUTH2 334
    // challenge). Every connection holding that token asks at once; one refresh answers all.
    const rejected = call.rejectedToken ?? this.#held?.token;
    if (call.rejectedToken !== undefined) {
      const held = this.#held;
      if (held && held.token !== rejected && this.#clock.now() < held.refreshAt) return held;
    } else {
      const suspect = this.#held;
      // Without the refused token's identity: a forced refresh this recent answered the same refusal.
      if (!this.#flight && suspect?.forced && this.#clock.now() - suspect.obtainedAt < FORCED_REUSE_MS && suspect.expiresAt > this.#clock.now()) return suspect;
    }
    if (this.#flight) {
      const joined = await this.#join(call);
      if (joined.token !== rejected) return joined;
      if (this.#flight) return this.#join(call);
    }
    if (this.#held?.token === rejected) this.#held = undefined;
    return this.#start(call, true, undefined, rejected);
  }

  #join(call: TokenCall): Promise<Held> {
    const flight = this.#flight as Flight;
    flight.callers.set(call.emit, call.strategy);
    return flight.promise;
  }

  #start(call: TokenCall, forced: boolean, previous: Held | undefined, rejected?: string): Promise<Held> {
    const callers = new Map([[call.emit, call.strategy]]);
    const promise = this.#refresh(forced, rejected).then(
      ({ held, source }) => {
        this.#held = held;
        for (const [emit, strategy] of callers) safeEmit(emit, 'token', { strategy, user: this.#settings.user, expiresAt: held.expiresAt, source });
        return held;
      },
      (err: unknown) => {
        // An eager refresh that fails transiently keeps the still-valid token in service.
        if (!forced && previous && err instanceof TokenFailure && err.retryable && previous.expiresAt - this.#clock.now() >= MIN_LEFT_FOR_FALLBACK_MS) {
          this.#warn(callers, 'TOKEN_REFRESH_DEFERRED', `refreshing the access token failed (${err.code}); the current one is used until it nears expiry`);
          return previous;
        }
        throw err;
      },
    );
    const flight: Flight = { promise, callers };
    this.#flight = flight;
    const clear = (): void => {
      if (this.#flight === flight) this.#flight = undefined;
    };
    promise.then(clear, clear);
    return promise;
  }

  async #refresh(forced: boolean, rejected: string | undefined): Promise<{ held: Held; source: 'endpoint' | 'store' }> {
    const stored = await this.#readStore(rejected);
    if (stored) return { held: stored, source: 'store' };
    const lock = this.#lock;
    if (!lock) return this.#fetchAndStore(forced);
    const deadline = this.#clock.now() + LOCK_TTL_MS;
    while (this.#clock.now() < deadline && this.#store.available) {
      const acquired = await this.#store.guard(() => lock.acquire(this.#lockKey, LOCK_TTL_MS), 'token lock');
      if (acquired === undefined) break;
      if (acquired) {
        try {
          // The previous holder may have stored a token between our read and our lock.
          const again = await this.#readStore(rejected);
          if (again) return { held: again, source: 'store' };
          return await this.#fetchAndStore(forced);
        } finally {
          await this.#store.guard(() => lock.release(this.#lockKey), 'token lock release');
        }
      }
      // Another process is refreshing: wait for its token in the store instead of asking Google.
      await this.#clock.sleep(LOCK_POLL_MS);
      const theirs = await this.#readStore(rejected);
      if (theirs) return { held: theirs, source: 'store' };
    }
    return this.#fetchAndStore(forced);
  }

  async #readStore(rejected: string | undefined): Promise<Held | undefined> {
    const raw = await this.#store.get(this.#key);
    if (raw === undefined) return undefined;
    const decoded = this.#codec.decode(raw, this.#key);
    if (!decoded.ok) {
      this.#warn(this.#flight?.callers ?? this.#recent, 'TOKEN_STORE_VALUE_REJECTED', DECODE_WARNINGS[decoded.reason]);
      return undefined;
    }
    const { token, expiresAt } = decoded.value;
    if (token === rejected) {
      await this.#store.delete(this.#key);
      return undefined;
    }
    const now = this.#clock.now();
    if (expiresAt - now <= this.#settings.cache.eagerRefreshMs) return undefined;
    return { token, expiresAt, obtainedAt: now, refreshAt: expiresAt - this.#settings.cache.eagerRefreshMs, forced: false };
  }

  async #fetchAndStore(forced: boolean): Promise<{ held: Held; source: 'endpoint' }> {
    const answer = await this.#fetchWithRetry();
    const now = this.#clock.now();
    // google-auth-library stamps the expiry with the system time; what counts is the lifetime.
    // Google gives it in whole seconds (`expires_in`, RFC 6749 section 5.1): rounding takes off
    // the milliseconds that passed between that stamp and this line.
    const lifetimeMs = Math.round((answer.expiresAt - Date.now()) / 1000) * 1000;
    const fetched: StoredToken = { token: answer.token, expiresAt: now + lifetimeMs };
    const lifetime = fetched.expiresAt - now;
    // A skew larger than half the token's life would refresh on nearly every send.
    const skew = Math.min(this.#settings.cache.eagerRefreshMs, Math.max(0, lifetime / 2));
    const held: Held = { ...fetched, obtainedAt: now, refreshAt: fetched.expiresAt - skew, forced };
    if (lifetime > 0) await this.#store.set(this.#key, this.#codec.encode(fetched, this.#key), lifetime);
    return { held, source: 'endpoint' };
  }

  async #fetchWithRetry(): Promise<StoredToken> {
    const started = this.#clock.now();
    for (let attempt = 1; ; attempt++) {
      try {
        return await withTimeout(this.#fetcher.fetch(REQUEST_TIMEOUT_MS), REQUEST_TIMEOUT_MS, "Google's token endpoint");
      } catch (err) {
        const failure = classifyTokenError(err, this.#settings.kind, []);
        if (!failure.retryable) throw failure;
        const delayMs = fullJitterDelay(attempt, BACKOFF_BASE_MS, BACKOFF_MAX_MS, () => this.#clock.random());
        if (attempt >= MAX_ATTEMPTS || this.#clock.now() - started + delayMs > MAX_ELAPSED_MS) {
          throw new TokenFailure(
            `${failure.message}, ${attempt} attempt${attempt === 1 ? '' : 's'} in ${Math.round((this.#clock.now() - started) / 1000)} s`,
            failure.code,
            true,
            failure.details,
          );
        }
        await this.#clock.sleep(delayMs);
      }
    }
  }

  #remember(call: TokenCall): void {
    this.#recent.delete(call.emit);
    this.#recent.set(call.emit, call.strategy);
    // Bounded: transports created per request must not pile up here.
    if (this.#recent.size > 32) this.#recent.delete(this.#recent.keys().next().value as Emit);
  }

  #warn(to: Map<Emit, string>, code: string, message: string): void {
    for (const [emit, strategy] of to) safeEmit(emit, 'warning', { code, message, strategy });
  }
}

function safeEmit<K extends 'token' | 'warning'>(emit: Emit, event: K, payload: TransportEvents[K]): void {
  try {
    emit(event, payload);
  } catch {
    // A throwing listener must not fail the send that happened to trigger the event.
  }
}
