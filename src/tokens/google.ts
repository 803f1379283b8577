import https from 'node:https';
import type { OAuthSettings } from './oauth-config.js';
import type { StoredToken } from './crypto.js';
import { TokenFailure, classifyTokenError } from './failure.js';
import { GOOGLE_TOKEN_URL, secretsOf } from './keys.js';

type GoogleAuthModule = typeof import('google-auth-library');

// Google access tokens last an hour; RFC 6749 §5.1 makes expires_in only RECOMMENDED.
const ASSUMED_LIFETIME_MS = 3_600_000;

let loading: Promise<GoogleAuthModule> | undefined;

/**
 * google-auth-library, loaded on first use only, so transports that never use OAuth never load
 * it. A dynamic import works from our CJS build too (Node >= 20.19 loads ESM and CJS either way).
 */
export function loadGoogleAuth(): Promise<GoogleAuthModule> {
  loading ??= import('google-auth-library').catch((err: unknown) => {
    loading = undefined;
    throw err;
  });
  return loading;
}

/** Fetches one new access token per call; the provider caches, shares and retries. */
export interface TokenFetcher {
  fetch(requestTimeoutMs: number): Promise<StoredToken>;
}

/**
 * The fetcher for OAuth settings: `OAuth2Client` with the refresh token, or `JWT` with
 * `subject` (domain-wide delegation) for a service account. A new client per fetch: the
 * libraries' own caches would hand back the token a forced refresh must replace. Their
 * built-in retries are off (the provider retries with its own bounds), every failure becomes a
 * {@link TokenFailure} without the library's error attached (it holds the secrets it sent).
 */
export function createGoogleFetcher(settings: OAuthSettings): TokenFetcher {
  const { credentials } = settings;
  const tokenUrl = settings.endpoints.token;
  const secrets = secretsOf(settings);
  return {
    async fetch(requestTimeoutMs) {
      let lib: GoogleAuthModule;
      try {
        lib = await loadGoogleAuth();
      } catch {
        throw new TokenFailure('google-auth-library could not be loaded; reinstall gmail-transport', 'UNKNOWN', false);
      }
      const transporterOptions = {
        timeout: requestTimeoutMs,
        retryConfig: { retry: 0, noResponseRetries: 0 },
        ...(nodeHttpIsConfigured() ? {} : { fetchImplementation: runtimeFetch }),
      };
      try {
        if (credentials.kind === 'refresh-token') {
          const client = new lib.OAuth2Client({
            clientId: credentials.clientId,
            clientSecret: credentials.clientSecret.reveal(),
            transporterOptions,
            ...(tokenUrl ? { endpoints: { oauth2TokenUrl: tokenUrl } } : {}),
          });
          refuseNonJsonBodies(client.transporter);
          client.setCredentials({ refresh_token: credentials.refreshToken.reveal() });
          const { credentials: result } = await client.refreshAccessToken();
          return toStoredToken(result.access_token, result.expiry_date);
        }
        const jwt = new lib.JWT({
          email: credentials.clientEmail,
          key: credentials.privateKey.reveal(),
          scopes: [...settings.scopes],
          subject: settings.user,
          transporterOptions,
        });
        refuseNonJsonBodies(jwt.transporter);
        if (tokenUrl) {
          jwt.transporter.interceptors.request.add({
            resolved: async (config) => {
              // The assertion's `aud` stays Google's token URL, as Google requires; only where
              // it is posted changes (a proxy, or a stand-in in tests).
              if (config.url.toString() === GOOGLE_TOKEN_URL) config.url = new URL(tokenUrl);
              return config;
            },
          });
        }
        const result = await jwt.authorize();
        return toStoredToken(result.access_token, result.expiry_date);
      } catch (err) {
        throw classifyTokenError(err, credentials.kind, secrets);
      }
    },
  };
}

/**
 * The runtime's fetch, looked up at each call (a test's interceptor, installed later, sees it).
 * gaxios would otherwise load node-fetch, whose requests run through Node's own `stream.pipeline`
 * and http client: code nodemailer runs for every message. Sharing it with another caller leaves
 * V8 with polymorphic type feedback there, and every send then pays for it
 * (docs/decisions/0002-token-requests-through-node-fetch.md). The runtime's fetch (undici) runs on code of its own.
 */
const runtimeFetch: typeof fetch = async (input, init) => {
  const response = await globalThis.fetch(input, init);
  // A fetched Response's headers are immutable, but gaxios's error redactor overwrites any header
  // named like `authorization` or containing `secret` in a failed answer. On an immutable one
  // that throws a TypeError in place of the HTTP error, and an invalid_grant or a 503 would be
  // reported as an unknown failure. The answer keeps its own status line and body and gets a
  // mutable copy of its headers: rebuilding it with `new Response()` would throw on what a server
  // may send and Response's constructor refuses (a status of 600 or more, a Latin-1 reason phrase).
  Object.defineProperty(response, 'headers', { value: new Headers(response.headers), configurable: true, enumerable: true });
  return response;
};

/**
 * Whether the process configured Node's http client in a way only gaxios's default (node-fetch,
 * which runs on it) honours, so token requests must stay there:
 * - HTTPS_PROXY / HTTP_PROXY (either case): gaxios applies them through an agent of its own;
 * - global-agent's variables, or an `https.globalAgent` that is replaced (a proxy agent), patched
 *   (a method set on the instance) or given any option beyond pooling and timeouts (a private CA,
 *   a client certificate, a socket path, a lookup function): node-fetch uses that agent, the
 *   runtime's fetch does not. An option we do not know counts as configured: staying on node-fetch
 *   costs some speed, leaving it would ignore what the application asked for.
 * Also when the runtime has no fetch at all.
 */
function nodeHttpIsConfigured(): boolean {
  if (typeof globalThis.fetch !== 'function') return true;
  const env = process.env;
  if (env.HTTPS_PROXY || env.https_proxy || env.HTTP_PROXY || env.http_proxy) return true;
  if (env.GLOBAL_AGENT_HTTP_PROXY || env.GLOBAL_AGENT_HTTPS_PROXY) return true;
  // Read from the module object at each call: a named import would not see a replaced agent.
  const agent: unknown = https.globalAgent;
  if (!(agent instanceof https.Agent) || Object.getPrototypeOf(agent) !== https.Agent.prototype) return true;
  if (Object.values(Object.getOwnPropertyDescriptors(agent)).some((property) => typeof property.value === 'function')) return true;
  const options: Record<string, unknown> = (agent as https.Agent & { options?: Record<string, unknown> }).options ?? {};
  return Object.keys(options).some((name) => !POOLING_OPTIONS.has(name) && options[name] !== undefined && options[name] !== null);
}

/**
 * Agent options that change how many connections are kept and for how long, not where or how
 * they connect. Node's own global agent sets some of them (and `path: null`, `proxyEnv: undefined`).
 */
const POOLING_OPTIONS = new Set([
  'keepAlive',
  'keepAliveMsecs',
  'scheduling',
  'timeout',
  'noDelay',
  'defaultPort',
  'protocol',
  'maxSockets',
  'maxFreeSockets',
  'maxTotalSockets',
  'maxCachedSessions',
]);

type Transporter = InstanceType<GoogleAuthModule['OAuth2Client']>['transporter'];

/**
 * A 2xx answer whose body is not a JSON object (a captive portal's or a misrouted proxy's HTML
 * page, a truncated body) is no token response (RFC 6749 §5.1 requires a JSON object).
 * google-auth-library would fail on it with a TypeError quoting the body, which would be
 * classified as an unknown, final failure; it is a transient one, reported without the body.
 */
function refuseNonJsonBodies(transporter: Transporter): void {
  transporter.interceptors.response.add({
    resolved: async (response) => {
      const { data } = response;
      if (typeof data !== 'object' || data === null || Array.isArray(data)) {
        throw new TokenFailure(
          `Google's token endpoint answered HTTP ${response.status} with a body that is not a JSON token response`,
          'TEMPORARY_FAILURE',
          true,
          {
            httpStatus: response.status,
          },
        );
      }
      return response;
    },
  });
}

function toStoredToken(token: string | null | undefined, expiryDate: number | null | undefined): StoredToken {
  if (typeof token !== 'string' || token === '') {
    throw new TokenFailure("Google's token endpoint answered without an access token", 'TEMPORARY_FAILURE', true);
  }
  const expiresAt = typeof expiryDate === 'number' && Number.isFinite(expiryDate) ? expiryDate : Date.now() + ASSUMED_LIFETIME_MS;
  return { token, expiresAt };
}
