import type { ErrorCode } from '../errors/error.js';
import type { GmailTransportError } from '../errors/error.js';
import type { Locale } from '../errors/hints.js';
import { errorFor } from '../errors/map-error.js';
import { publicText } from '../core/untrusted-text.js';
import { TimeoutError } from './timing.js';

/**
 * Why a token could not be obtained, before it becomes a GmailTransportError for a given
 * transport (strategy name and hint language differ between transports sharing a provider).
 * Carries no `cause`: google-auth-library's errors hold the request, with the refresh token,
 * client secret or signed assertion in it.
 */
export class TokenFailure extends Error {
  override readonly name = 'TokenFailure';
  constructor(
    message: string,
    readonly code: ErrorCode,
    readonly retryable: boolean,
    readonly details: { variant?: string; httpStatus?: number; reason?: string } = {},
  ) {
    super(message);
  }

  toTransportError(strategy: string, locale: Locale): GmailTransportError {
    return errorFor(this.code, {
      message: this.message,
      retryable: this.retryable,
      strategy,
      phase: 'token',
      locale,
      ...(this.details.variant ? { variant: this.details.variant } : {}),
      ...(this.details.httpStatus !== undefined ? { httpStatus: this.details.httpStatus } : {}),
      ...(this.details.reason ? { reason: this.details.reason } : {}),
    });
  }
}

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
]);

interface HttpLikeError {
  name?: unknown;
  code?: unknown;
  status?: unknown;
  cause?: unknown;
  response?: { status?: unknown; data?: unknown };
}

/**
 * Classifies a failed token request (RFC 6749 §5.2 error codes, as Google's endpoint uses
 * them; see the token-* fixtures). Final: `invalid_grant` (revoked, expired, "Testing" app after
 * 7 days, password change, 6 months unused), `invalid_client`, `unauthorized_client` and
 * `invalid_scope` (delegation missing). Transient: 5xx, 408, 429, resets and timeouts.
 * Google's `error` and `error_description` are shown only as {@link publicText} lets them:
 * short, one line, no control characters, none of `secrets`.
 */
export function classifyTokenError(err: unknown, grant: 'refresh-token' | 'service-account', secrets: readonly string[]): TokenFailure {
  if (err instanceof TokenFailure) return err;
  if (err instanceof TimeoutError) return new TokenFailure("Google's token endpoint did not answer in time", 'CONNECTION_FAILED', true, { variant: 'token' });
  const e = (typeof err === 'object' && err !== null ? err : {}) as HttpLikeError;
  const status = typeof e.response?.status === 'number' ? e.response.status : typeof e.status === 'number' ? e.status : undefined;
  if (status === undefined) {
    const code = networkCode(e);
    // gaxios wraps a request that never got a reply (node-fetch's FetchError of type 'system':
    // reset, refused, DNS) in an error carrying its request `config` and no `response`.
    const unanswered = typeof e === 'object' && 'config' in e;
    if (code || unanswered || hasSystemCause(e)) {
      return new TokenFailure(`Could not reach Google's token endpoint${code ? ` (${code})` : ''}`, 'CONNECTION_FAILED', true, { variant: 'token' });
    }
    return new TokenFailure('The token request failed before reaching Google', 'UNKNOWN', false);
  }
  const data = (typeof e.response?.data === 'object' && e.response.data !== null ? e.response.data : {}) as { error?: unknown; error_description?: unknown };
  const oauthError = publicText(data.error, secrets, 64);
  const description = publicText(data.error_description, secrets);
  const detail = oauthError ? ` (${oauthError}${description ? `: ${description}` : ''})` : ` (HTTP ${status})`;
  const facts = { httpStatus: status, ...(oauthError ? { reason: oauthError } : {}) };
  const sa = grant === 'service-account' ? { variant: 'service-account' } : {};

  if (oauthError === 'invalid_grant') {
    const what = grant === 'service-account' ? "the service account's signed assertion" : 'the refresh token';
    return new TokenFailure(`Google refused ${what}${detail}`, 'OAUTH_INVALID_GRANT', false, { ...facts, ...sa });
  }
  if (oauthError === 'invalid_client' || oauthError === 'invalid_request' || (!oauthError && status === 401)) {
    return new TokenFailure(`Google refused the OAuth client${detail}`, 'OAUTH_INVALID_CLIENT', false, { ...facts, ...sa });
  }
  if (oauthError === 'unauthorized_client' || oauthError === 'invalid_scope' || oauthError === 'access_denied') {
    return new TokenFailure(`Google refused the scope or delegation${detail}`, 'OAUTH_SCOPE_DENIED', false, facts);
  }
  if (status === 429) return new TokenFailure(`Google's token endpoint is rate limiting${detail}`, 'RATE_LIMITED', true, facts);
  if (status >= 500 || status === 408) return new TokenFailure(`Google's token endpoint failed${detail}`, 'TEMPORARY_FAILURE', true, facts);
  return new TokenFailure(`Google's token endpoint refused the request${detail}`, 'PERMANENT_FAILURE', false, facts);
}

function hasSystemCause(e: HttpLikeError): boolean {
  for (let current: unknown = e, depth = 0; current && depth < 4; depth++) {
    const { name, type } = current as { name?: unknown; type?: unknown };
    if (name === 'AbortError' || name === 'TimeoutError' || type === 'system' || type === 'request-timeout') return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

function networkCode(e: HttpLikeError): string | undefined {
  for (let current: unknown = e, depth = 0; current && depth < 4; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || code.startsWith('UND_ERR'))) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
