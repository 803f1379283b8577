import { createHash, createHmac } from 'node:crypto';
import type { OAuthSettings } from './oauth-config.js';

/**
 * Bumped when what a key covers or how a value is stored changes. Entries of another version
 * are never read, so an upgrade costs one token request per credential, never a wrong token.
 */
const KEY_VERSION = 'v2';

/** Separates the key derived for store keys from any other use of the same secrets. */
const KEY_DOMAIN = 'gmail-transport/token-store-key/v2';

/** Google's token endpoint, where a config without an `endpoints.token` override asks. */
export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';

/** Everything that decides whose token a store entry is. */
export interface TokenIdentity {
  /** The grant: `refresh-token` or `service-account`. */
  kind: string;
  /** The OAuth client id, or the service account's e-mail. */
  client: string;
  user: string;
  scopes: readonly string[];
  /** The token endpoint the token comes from. */
  tokenUrl: string;
  /** The secret material: client secret and refresh token, or the private key. */
  secrets: readonly string[];
}

/**
 * The store key of a token: `gmail-transport:v2:<kind>:<digest>`. The digest is an HMAC-SHA256
 * of the client, the user, the sorted scopes and the token endpoint, keyed with a key derived
 * from the secret material; so only a caller holding the same secrets finds (or overwrites) the
 * entry, the store never sees a secret or an address, and a key list is no oracle for either.
 * The grant kind rather than the transport strategy is in the key, so an `oauth2`, an
 * `ip-relay` and a `gmail-api` transport with the same credentials share one token.
 * Why this construction: docs/decisions/0007-token-store-key.md.
 */
export function tokenStoreKey(identity: TokenIdentity): string {
  const normalizedScopes = [...new Set(identity.scopes)].sort().join(' ');
  const secretKey = createHmac('sha256', KEY_DOMAIN).update(lengthPrefixed(identity.secrets)).digest();
  const digest = createHmac('sha256', secretKey)
    .update(lengthPrefixed([identity.kind, identity.client, identity.user.toLowerCase(), normalizedScopes, new URL(identity.tokenUrl).href]))
    .digest('hex');
  return `gmail-transport:${KEY_VERSION}:${identity.kind}:${digest}`;
}

/** The secret material of these settings' credentials, in a fixed order. */
export function secretsOf(settings: OAuthSettings): string[] {
  const c = settings.credentials;
  return c.kind === 'refresh-token' ? [c.clientSecret.reveal(), c.refreshToken.reveal()] : [c.privateKey.reveal()];
}

/** The store key of these settings' token. */
export function storeKeyOf(settings: OAuthSettings): string {
  const c = settings.credentials;
  return tokenStoreKey({
    kind: settings.kind,
    client: c.kind === 'refresh-token' ? c.clientId : c.clientEmail,
    user: settings.user,
    scopes: settings.scopes,
    tokenUrl: settings.endpoints.token ?? GOOGLE_TOKEN_URL,
    secrets: secretsOf(settings),
  });
}

/** The key of the cross-process refresh lock that goes with a token key (and so with its secrets). */
export function tokenLockKey(storeKey: string): string {
  return `${storeKey}:lock`;
}

/** A one-way fingerprint of secret material, for in-process identity only (never stored or shown). */
export function fingerprint(...parts: readonly string[]): string {
  return createHash('sha256').update(lengthPrefixed(parts)).digest('hex');
}

/** Each part behind its length, so that no two lists of parts hash the same text. */
function lengthPrefixed(parts: readonly string[]): string {
  return parts.map((part) => `${part.length}:${part}`).join('');
}
