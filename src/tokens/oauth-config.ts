import type { ConfigChecker, Raw } from '../core/validate.js';
import { checkEndpointUrl } from '../core/validate.js';
import { parseMailbox, parseSecret } from '../core/credentials.js';
import type { Secret } from '../core/secret.js';
import type { StrategyContext } from '../core/context.js';
import type { AccessTokenSource, TokenLock, TokenStore } from '../core/tokens.js';
import { parseServiceAccount, type ServiceAccountKey } from './service-account-key.js';
import { isTokenLockLike, isTokenStoreLike, parseEncryptionKey } from './recognize.js';
import { getTokenProvider } from './registry.js';

/** Options every OAuth strategy accepts about how access tokens are cached and refreshed. */
export interface TokenOptions {
  /**
   * Where access tokens are cached: any Keyv instance (Redis, Postgres, SQLite, ... adapters)
   * or an object with `get`, `set` and `delete`. Processes sharing one store share one token.
   * @default an in-memory store of this process
   */
  tokenStore?: TokenStore;
  /** A cross-process lock, for a shared store other than @keyv/redis (which locks by itself). */
  tokenLock?: TokenLock;
  /**
   * Seals tokens with AES-256-GCM before they reach the store: 32 bytes, as 64 hex characters
   * or base64 (`openssl rand -base64 32`), or a Uint8Array.
   */
  tokenEncryptionKey?: string | Uint8Array;
  /** Bound on every store call; a slower store counts as down. @default 1000 */
  tokenStoreTimeoutMs?: number;
  /** A cached token is refreshed once less than this is left. @default 300000 (5 minutes) */
  eagerRefreshMs?: number;
  /** OAuth scopes to ask for. @default ['https://mail.google.com/'] */
  scopes?: string[];
  /** Endpoint overrides (tests, proxies): https, or plain http to a loopback address only. */
  endpoints?: { token?: string };
}

/** Credentials of an installed (Desktop) OAuth client plus the user's refresh token. */
export interface RefreshTokenCredentials {
  /** The Google account that consented; mail is sent as this user. */
  user: string;
  /** `….apps.googleusercontent.com`, from Google Cloud console > APIs & Services > Credentials. */
  clientId: string;
  clientSecret: string;
  /** From the user's consent, e.g. with `npx gmail-transport auth`. */
  refreshToken: string;
}

/** A Workspace service account with domain-wide delegation. */
export interface ServiceAccountCredentials {
  /** The mailbox to send as (the JWT subject). */
  user: string;
  /** The JSON key, parsed or as a string. Give this or `keyFile`. */
  serviceAccount?: ServiceAccountKey | string;
  /** Path of the JSON key file. Give this or `serviceAccount`. */
  keyFile?: string;
}

export type { ServiceAccountKey };

/** The scope Gmail's SMTP and IMAP servers require for XOAUTH2. */
export const MAIL_SCOPE = 'https://mail.google.com/';

const TOKEN_KEYS = ['user', 'scopes', 'tokenStore', 'tokenLock', 'tokenEncryptionKey', 'tokenStoreTimeoutMs', 'eagerRefreshMs', 'endpoints'] as const;
const REFRESH_TOKEN_FIELDS = ['clientId', 'clientSecret', 'refreshToken'] as const;
const SERVICE_ACCOUNT_FIELDS = ['serviceAccount', 'keyFile'] as const;

/** Keys of a refresh-token (oauth2) config, besides the common ones. */
export const REFRESH_TOKEN_KEYS: readonly string[] = [...TOKEN_KEYS, ...REFRESH_TOKEN_FIELDS];
/** Keys of a service-account config, besides the common ones. */
export const SERVICE_ACCOUNT_KEYS: readonly string[] = [...TOKEN_KEYS, ...SERVICE_ACCOUNT_FIELDS];
/** Every top-level key the OAuth strategies accept. */
export const OAUTH_KEYS: readonly string[] = [...TOKEN_KEYS, ...REFRESH_TOKEN_FIELDS, ...SERVICE_ACCOUNT_FIELDS];

/** How long before expiry a cached token is refreshed, unless `eagerRefreshMs` says otherwise. */
export const DEFAULT_EAGER_REFRESH_MS = 5 * 60_000;
/** Bound on each token store call, unless `tokenStoreTimeoutMs` says otherwise. */
export const DEFAULT_STORE_TIMEOUT_MS = 1_000;

/** The credentials proper, by kind. */
export type OAuthCredentials =
  | { readonly kind: 'refresh-token'; readonly clientId: string; readonly clientSecret: Secret; readonly refreshToken: Secret }
  | { readonly kind: 'service-account'; readonly clientEmail: string; readonly privateKey: Secret };

/** How tokens are cached and refreshed. */
export interface TokenCacheSettings {
  readonly store?: TokenStore;
  readonly lock?: TokenLock;
  readonly encryptionKey?: Secret;
  readonly eagerRefreshMs: number;
  readonly storeTimeoutMs: number;
}

/** Validated OAuth settings, ready for {@link createTokenSource}. Secrets are held in `Secret`. */
export interface OAuthSettings {
  readonly kind: 'refresh-token' | 'service-account';
  /** The mailbox: the consenting user, or the service account's JWT subject. */
  readonly user: string;
  /** Sorted, without duplicates. */
  readonly scopes: readonly string[];
  readonly credentials: OAuthCredentials;
  readonly cache: TokenCacheSettings;
  /** `token` (Google's token endpoint override) plus the caller's `extraEndpointKeys`. */
  readonly endpoints: Readonly<Record<string, string | undefined>>;
}

/**
 * Reads and checks OAuth settings from a config object, reporting every problem to `check`.
 * `kind: 'either'` decides by the fields present: clientId/clientSecret/refreshToken, or
 * serviceAccount/keyFile. Reads a `keyFile` from disk (no network).
 */
export function parseOAuthSettings(
  check: ConfigChecker,
  input: Raw,
  opts: { kind: 'refresh-token' | 'service-account' | 'either'; defaultScopes: readonly string[]; extraEndpointKeys?: readonly string[] },
): OAuthSettings | undefined {
  const kind = opts.kind === 'either' ? decideKind(check, input) : opts.kind;
  const user = parseMailbox(check, input, 'user');
  const scopes = parseScopes(check, input, opts.defaultScopes);
  const cache = parseCache(check, input);
  const endpoints = parseEndpoints(check, input, opts.extraEndpointKeys ?? []);
  let credentials: OAuthCredentials | undefined;
  if (kind === 'refresh-token') credentials = parseRefreshToken(check, input);
  else if (kind === 'service-account') {
    const key = parseServiceAccount(check, input);
    if (key) credentials = { kind: 'service-account', clientEmail: key.clientEmail, privateKey: key.privateKey };
  }
  if (!kind || !user || !scopes || !cache || !endpoints || !credentials) return undefined;
  return Object.freeze({ kind, user, scopes, credentials, cache, endpoints });
}

/**
 * The token source for these settings: one provider per (client, user, scopes, store) is shared
 * by every connection and every transport of the process. Emits `token` (user and expiry,
 * never the token) and `warning` (store problems) through `ctx.emit`.
 */
export function createTokenSource(settings: OAuthSettings, ctx: StrategyContext, strategy: string): AccessTokenSource {
  const provider = getTokenProvider(settings, ctx.clock);
  return {
    user: settings.user,
    getAccessToken: (opts) =>
      provider.getAccessToken({
        emit: ctx.emit,
        strategy,
        locale: ctx.locale,
        forceRefresh: opts?.forceRefresh ?? false,
        ...(opts?.rejectedToken ? { rejectedToken: opts.rejectedToken.reveal() } : {}),
      }),
  };
}

function decideKind(check: ConfigChecker, input: Raw): OAuthSettings['kind'] | undefined {
  const hasRefresh = REFRESH_TOKEN_FIELDS.some((k) => input[k] != null);
  const hasServiceAccount = SERVICE_ACCOUNT_FIELDS.some((k) => input[k] != null);
  if (hasRefresh && hasServiceAccount) {
    check.fail('serviceAccount', 'cannot be combined with clientId/clientSecret/refreshToken: give one kind of credentials');
    return undefined;
  }
  if (hasServiceAccount) return 'service-account';
  if (hasRefresh) return 'refresh-token';
  check.fail('clientId', 'is required (give clientId, clientSecret and refreshToken, or a service account with serviceAccount or keyFile)');
  return undefined;
}

function parseRefreshToken(check: ConfigChecker, input: Raw): OAuthCredentials | undefined {
  const clientId = check.string(input, 'clientId', { required: true });
  if (clientId !== undefined && /\s/.test(clientId.trim())) check.fail('clientId', 'must not contain spaces');
  const clientSecret = parseSecret(check, input, 'clientSecret');
  const refreshToken = parseSecret(check, input, 'refreshToken');
  // Google access tokens start with "ya29."; they last an hour and cannot be refreshed.
  if (refreshToken && /^ya29\./.test(refreshToken.reveal())) {
    check.fail(
      'refreshToken',
      'is an access token, not a refresh token',
      'Run `npx gmail-transport auth` to get a refresh token (it usually starts with "1//").',
    );
    return undefined;
  }
  if (clientId === undefined || /\s/.test(clientId.trim()) || !clientSecret || !refreshToken) return undefined;
  return { kind: 'refresh-token', clientId: clientId.trim(), clientSecret, refreshToken };
}

function parseScopes(check: ConfigChecker, input: Raw, defaults: readonly string[]): readonly string[] | undefined {
  const value = input.scopes;
  if (value === undefined) return Object.freeze([...new Set(defaults)].sort());
  if (!Array.isArray(value) || value.length === 0 || !value.every((s) => typeof s === 'string' && s.trim() !== '' && !/\s/.test(s.trim()))) {
    check.fail('scopes', 'must be a non-empty array of scope URLs such as https://mail.google.com/');
    return undefined;
  }
  return Object.freeze([...new Set((value as string[]).map((s) => s.trim()))].sort());
}

function parseCache(check: ConfigChecker, input: Raw): TokenCacheSettings | undefined {
  let ok = true;
  const store = input.tokenStore;
  if (store !== undefined && !isTokenStoreLike(store)) {
    check.fail('tokenStore', 'must be a Keyv instance or an object with get, set and delete methods');
    ok = false;
  }
  const lock = input.tokenLock;
  if (lock !== undefined && !isTokenLockLike(lock)) {
    check.fail('tokenLock', 'must be an object with acquire(key, ttlMs) and release(key) methods');
    ok = false;
  }
  let encryptionKey: Secret | undefined;
  if (input.tokenEncryptionKey !== undefined) {
    encryptionKey = parseEncryptionKey(input.tokenEncryptionKey);
    if (!encryptionKey) {
      check.fail('tokenEncryptionKey', 'must be 32 bytes: 64 hex characters, base64 (openssl rand -base64 32) or a Uint8Array');
      ok = false;
    }
  }
  // Google access tokens live an hour; a skew past half of that would refresh on every send.
  const eagerRefreshMs = check.integer(input, 'eagerRefreshMs', { min: 0, max: 30 * 60_000 });
  const storeTimeoutMs = check.integer(input, 'tokenStoreTimeoutMs', { min: 1, max: 60_000 });
  if ((input.eagerRefreshMs !== undefined && eagerRefreshMs === undefined) || (input.tokenStoreTimeoutMs !== undefined && storeTimeoutMs === undefined))
    ok = false;
  if (!ok) return undefined;
  return Object.freeze({
    ...(store !== undefined ? { store: store as TokenStore } : {}),
    ...(lock !== undefined ? { lock: lock as TokenLock } : {}),
    ...(encryptionKey ? { encryptionKey } : {}),
    eagerRefreshMs: eagerRefreshMs ?? DEFAULT_EAGER_REFRESH_MS,
    storeTimeoutMs: storeTimeoutMs ?? DEFAULT_STORE_TIMEOUT_MS,
  });
}

function parseEndpoints(check: ConfigChecker, input: Raw, extraKeys: readonly string[]): Readonly<Record<string, string | undefined>> | undefined {
  const raw = check.object(input, 'endpoints');
  if (input.endpoints !== undefined && !raw) return undefined;
  if (!raw) return Object.freeze({});
  const at = check.at('endpoints');
  const keys = ['token', ...extraKeys];
  at.unknownKeys(raw, keys);
  const out: Record<string, string | undefined> = {};
  let ok = Object.keys(raw).every((k) => keys.includes(k));
  for (const key of keys) {
    // null means unset, as everywhere in the config (ConfigChecker.string): the default endpoint.
    if (raw[key] === undefined || raw[key] === null) continue;
    const url = checkEndpointUrl(at, raw, key);
    if (url === undefined) ok = false;
    else out[key] = url;
  }
  return ok ? Object.freeze(out) : undefined;
}
