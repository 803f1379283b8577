import { createHash } from 'node:crypto';
import type { OAuthSettings } from './oauth-config.js';

/** Bumped when the stored value's format changes, so old and new versions never mix values. */
const KEY_VERSION = 'v1';

/**
 * The store key of a token: `gmail-transport:v1:<kind>:<hash>`, where kind is the grant
 * (`refresh-token` or `service-account`) and the hash covers the client (id or service
 * account e-mail), the user and the sorted scopes. Hashing keeps addresses out of the store's
 * key space (a key list is often visible to more people than the values) and bounds the length.
 * The grant kind rather than the transport strategy is in the key, so an `oauth2`, an
 * `ip-relay` and a `gmail-api` transport with the same credentials share one token.
 */
export function tokenStoreKey(kind: string, client: string, user: string, scopes: readonly string[]): string {
  const normalizedScopes = [...new Set(scopes)].sort().join(' ');
  const digest = createHash('sha256').update(`${client}\n${user.toLowerCase()}\n${normalizedScopes}`, 'utf8').digest('hex');
  return `gmail-transport:${KEY_VERSION}:${kind}:${digest}`;
}

/** The store key of these settings' token. */
export function storeKeyOf(settings: OAuthSettings): string {
  const c = settings.credentials;
  return tokenStoreKey(settings.kind, c.kind === 'refresh-token' ? c.clientId : c.clientEmail, settings.user, settings.scopes);
}

/** The key of the cross-process refresh lock that goes with a token key. */
export function tokenLockKey(storeKey: string): string {
  return `${storeKey}:lock`;
}

/** A one-way fingerprint of secret material, for in-process identity only (never stored or shown). */
export function fingerprint(...parts: readonly string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(`${part.length}:${part}`, 'utf8');
  return hash.digest('hex');
}
