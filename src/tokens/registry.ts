import type { OAuthSettings } from './oauth-config.js';
import { TokenProvider, storeKeyOf } from './provider.js';
import { fingerprint } from './keys.js';

// Providers of a store are held through the store itself: a store created per transport (and
// then dropped) takes its providers with it instead of piling them up here.
const byStore = new WeakMap<object, Map<string, TokenProvider>>();
const withoutStore = new Map<string, TokenProvider>();
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
 * only), scopes, store and lock instances, encryption key, endpoint and timings.
 */
export function getTokenProvider(settings: OAuthSettings): TokenProvider {
  const c = settings.credentials;
  const secretParts = c.kind === 'refresh-token' ? [c.clientSecret.reveal(), c.refreshToken.reveal()] : [c.privateKey.reveal()];
  const { cache } = settings;
  const id = fingerprint(
    storeKeyOf(settings),
    ...secretParts,
    identityOf(cache.store),
    identityOf(cache.lock),
    cache.encryptionKey?.reveal() ?? '',
    settings.endpoints.token ?? '',
    String(cache.eagerRefreshMs),
    String(cache.storeTimeoutMs),
  );
  let providers = cache.store ? byStore.get(cache.store) : withoutStore;
  if (!providers) {
    providers = new Map();
    byStore.set(cache.store as object, providers);
  }
  let provider = providers.get(id);
  if (!provider) {
    provider = new TokenProvider(settings);
    providers.set(id, provider);
  }
  return provider;
}
