import type { Strategy } from './types.js';
import type { CommonOptions } from '../core/config.js';
import {
  OAUTH_KEYS,
  parseOAuthSettings,
  createTokenSource,
  type OAuthSettings,
  type RefreshTokenCredentials,
  type ServiceAccountCredentials,
  type TokenOptions,
} from '../tokens/oauth-config.js';
import type { GmailApiRouteOptions } from '../routes/gmail-api/gmail-api-route.js';
import { DeferredRoute } from '../routes/deferred-route.js';

/** The narrowest scope that may call `users.messages.send`. */
export const GMAIL_SEND_SCOPE = 'https://www.googleapis.com/auth/gmail.send';

/** Scopes that may send (users.messages.send accepts each). */
const SENDING_SCOPES = [
  GMAIL_SEND_SCOPE,
  'https://mail.google.com/',
  'https://www.googleapis.com/auth/gmail.modify',
  'https://www.googleapis.com/auth/gmail.compose',
];

/** Scopes that may also read the profile (users.getProfile), which `verify()` calls. */
const PROFILE_SCOPES = [
  'https://mail.google.com/',
  'https://www.googleapis.com/auth/gmail.modify',
  'https://www.googleapis.com/auth/gmail.compose',
  'https://www.googleapis.com/auth/gmail.readonly',
  'https://www.googleapis.com/auth/gmail.metadata',
];

/**
 * Requests in flight per mailbox. Google's per-user limit is 15,000 quota units a minute and
 * `messages.send` costs 100 units: 150 sends a minute, 2.5 a second
 * (https://developers.google.com/workspace/gmail/api/reference/quota). A send takes around a
 * second, so two in flight stay near that rate instead of bursting into userRateLimitExceeded;
 * a RATE_LIMITED that still happens is retried after Google's Retry-After.
 */
export const DEFAULT_MAX_CONCURRENT = 2;

/**
 * Messages up to this size go as JSON `{ raw: base64url }`; larger ones to the media upload
 * endpoint as they are. The JSON form costs 4/3 of the message in a second in-memory copy and on
 * the wire; Google's upload guide keeps plain requests for small payloads and sends media of a
 * few MB through /upload (https://developers.google.com/workspace/gmail/api/guides/uploads).
 */
export const JSON_MAX_BYTES = 2 * 1024 * 1024;

const DEFAULT_API_BASE = 'https://gmail.googleapis.com';

interface GmailApiOwnOptions extends CommonOptions, Omit<TokenOptions, 'endpoints' | 'scopes'> {
  strategy: 'gmail-api';
  /**
   * OAuth scopes to ask for. `https://mail.google.com/` works too (and lets `verify()` read the
   * profile); so do gmail.compose and gmail.modify.
   * @default ['https://www.googleapis.com/auth/gmail.send']
   */
  scopes?: string[];
  /**
   * Gmail API requests in flight at most for this mailbox, shared by every transport of the
   * process that sends as it.
   * @default 2
   */
  maxConcurrent?: number;
  /** Endpoint overrides (tests, proxies): https, or plain http to a loopback address only. */
  endpoints?: {
    /** Google's OAuth token endpoint. @default https://oauth2.googleapis.com/token */
    token?: string;
    /** Base URL of the Gmail API. @default https://gmail.googleapis.com */
    gmailApi?: string;
  };
}

/**
 * Sends through the Gmail REST API over HTTPS (port 443), with the credentials of `oauth2`
 * (clientId, clientSecret, refreshToken) or of `service-account` (serviceAccount or keyFile).
 * For hosts that block outbound SMTP ports.
 */
export type GmailApiConfig = GmailApiOwnOptions & (RefreshTokenCredentials | ServiceAccountCredentials);

export interface GmailApiOptions {
  settings: OAuthSettings;
  route: GmailApiRouteOptions;
}

export const gmailApi: Strategy<'gmail-api', GmailApiConfig, GmailApiOptions> = {
  name: 'gmail-api',
  keys: [...OAUTH_KEYS, 'maxConcurrent'],
  parse(input, check) {
    const settings = parseOAuthSettings(check, input, { kind: 'either', defaultScopes: [GMAIL_SEND_SCOPE], extraEndpointKeys: ['gmailApi'] });
    const maxConcurrent = check.integer(input, 'maxConcurrent', { min: 1, max: 100 });
    // The pool options (pool, maxConnections, …) are accepted and have no effect: there are no
    // SMTP connections to pool, and a failover passes its own pool options down to every route.
    if (settings && !settings.scopes.some((s) => SENDING_SCOPES.includes(s))) {
      check.fail('scopes', `must include a scope that may send, such as ${GMAIL_SEND_SCOPE} or https://mail.google.com/`);
      return undefined;
    }
    if (!settings || (input.maxConcurrent !== undefined && maxConcurrent === undefined)) return undefined;
    return {
      settings,
      route: {
        user: settings.user,
        apiBase: (settings.endpoints.gmailApi ?? DEFAULT_API_BASE).replace(/\/+$/, ''),
        maxConcurrent: maxConcurrent ?? DEFAULT_MAX_CONCURRENT,
        jsonMaxBytes: JSON_MAX_BYTES,
        canReadProfile: settings.scopes.some((s) => PROFILE_SCOPES.includes(s)),
      },
    };
  },
  create(options, ctx) {
    const tokens = createTokenSource(options.settings, ctx, 'gmail-api');
    // The route (MIME, uploads, HTTP, Google's error reasons) loads at the first send or verify.
    return new DeferredRoute('gmail-api', async () => {
      const { GmailApiRoute } = await import('../routes/gmail-api/gmail-api-route.js');
      return new GmailApiRoute(options.route, tokens, ctx.locale);
    });
  },
  // The Gmail API counts against the same per-user sending limits as SMTP.
  budgetSubject: (options) => ({ kind: 'mailbox', user: options.route.user }),
};
