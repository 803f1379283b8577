import type { OAuthSettings } from './oauth-config.js';
import type { TokenCall, TokenProvider } from './provider.js';
import type { AccessToken } from '../core/tokens.js';
import { fingerprint, storeKeyOf } from './keys.js';
import { systemClock, type Clock } from '../core/clock.js';

/** How the provider's chunk is loaded; a parameter so a test can make the load fail. */
export type ProviderLoader = () => Promise<{ TokenProvider: new (settings: OAuthSettings, options: { clock?: Clock }) => TokenProvider }>;

const loadProviderChunk: ProviderLoader = () => import('./provider.js');

/**
 * The shared handle of one credential's provider. The provider's code (store guard, lock,
 * codec, the google-auth-library glue) is not part of what importing the package loads:
 * transports that never need a token (app passwords, relays) do not carry it. The handle
 * starts loading it in the background as soon as a transport with OAuth credentials is
 * created, so the provider is in place (listening to its store's errors) before the first send.
 */
export class SharedTokenProvider {
  readonly #settings: OAuthSettings;
  readonly #loadChunk: ProviderLoader;
  readonly #clock: Clock;
  #provider: TokenProvider | undefined;
  #loading: Promise<TokenProvider> | undefined;

  constructor(settings: OAuthSettings, loadChunk: ProviderLoader = loadProviderChunk, clock: Clock = systemClock) {
    this.#settings = settings;
    this.#loadChunk = loadChunk;
    this.#clock = clock;
    // A failure here is not lost: the first getAccessToken() loads again and reports it.
    this.#load().catch(() => undefined);
  }

  getAccessToken(call: TokenCall): Promise<AccessToken> {
    if (this.#provider) return this.#provider.getAccessToken(call);
    return this.#load().then((provider) => provider.getAccessToken(call));
  }

  #load(): Promise<TokenProvider> {
    this.#loading ??= this.#loadChunk().then(
      ({ TokenProvider }) => (this.#provider = new TokenProvider(this.#settings, { clock: this.#clock })),
      (err: unknown) => {
        // A failed load (a chunk missing from a broken install) is tried again by the next call.
        this.#loading = undefined;
        throw err;
      },
    );
    return this.#loading;
  }
}

// Providers of a store are held through the store itself: a store created per transport (and
// then dropped) takes its providers with it instead of piling them up here.
const byStore = new WeakMap<object, Map<string, SharedTokenProvider>>();
const withoutStore = new Map<string, SharedTokenProvider>();
const identities = new WeakMap<object, number>();
let nextIdentity = 1;

function identityOf(value: object | undefined): string {
  if (!value) return '-';
  let id = identities.get(value);
  if (id === undefined) {
    id = nextIdentity++;
    identities.set(value, id);
  }
  return String(id);
}

/**
 * The process-wide provider for these settings. Transports share one when everything that
 * changes a token's lifecycle matches: the credentials (secrets compared by hash, in memory
 * only), scopes, store and lock instances, encryption key, endpoint, timings and clock.
 */
export function getTokenProvider(settings: OAuthSettings, clock: Clock = systemClock): SharedTokenProvider {
  const { cache } = settings;
  // The store key already covers the credentials, their secrets, the scopes and the endpoint.
  const id = fingerprint(
    storeKeyOf(settings),
    identityOf(cache.store),
    identityOf(cache.lock),
    cache.encryptionKey?.reveal() ?? '',
    String(cache.eagerRefreshMs),
    String(cache.storeTimeoutMs),
    identityOf(clock),
  );
  let providers = cache.store ? byStore.get(cache.store) : withoutStore;
  if (!providers) {
    providers = new Map();
    byStore.set(cache.store as object, providers);
  }
  let provider = providers.get(id);
  if (!provider) {
    provider = new SharedTokenProvider(settings, loadProviderChunk, clock);
    providers.set(id, provider);
  }
  return provider;
}
