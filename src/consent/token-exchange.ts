import type { GmailTransportError } from '../errors/error.js';
import { errorFor } from '../errors/map-error.js';
import { Secret } from '../core/secret.js';
import { publicText } from '../core/untrusted-text.js';

/** What the authorization-code exchange gives back that the CLI uses. */
export interface ExchangedTokens {
  refreshToken?: string;
  /** The access token issued with it: the CLI asks the Gmail API whose it is. */
  accessToken?: Secret;
  /** Space-separated scopes granted, when Google says. */
  scope?: string;
}

/**
 * Exchanges the authorization code for tokens at the token endpoint, with the PKCE verifier
 * (RFC 7636 §4.5), through google-auth-library's OAuth2Client, loaded only now: the rest of
 * the CLI runs without it.
 *
 * @throws GmailTransportError with an OAuth code (OAUTH_INVALID_GRANT, OAUTH_INVALID_CLIENT,
 *   OAUTH_SCOPE_DENIED), or CONNECTION_FAILED / TEMPORARY_FAILURE / RATE_LIMITED; never with
 *   the code, the verifier, the secret or the endpoint's raw body.
 */
export async function exchangeCode(opts: {
  clientId: string;
  clientSecret: Secret;
  code: Secret;
  codeVerifier: Secret;
  redirectUri: string;
  tokenEndpoint: string;
}): Promise<ExchangedTokens> {
  const { OAuth2Client } = await import('google-auth-library');
  const client = new OAuth2Client({
    clientId: opts.clientId,
    clientSecret: opts.clientSecret.reveal(),
    redirectUri: opts.redirectUri,
    endpoints: { oauth2TokenUrl: opts.tokenEndpoint },
  });
  try {
    const { tokens } = await client.getToken({ code: opts.code.reveal(), codeVerifier: opts.codeVerifier.reveal() });
    return {
      ...(typeof tokens.refresh_token === 'string' && tokens.refresh_token !== '' ? { refreshToken: tokens.refresh_token } : {}),
      ...(typeof tokens.access_token === 'string' && tokens.access_token !== '' ? { accessToken: new Secret(tokens.access_token) } : {}),
      ...(typeof tokens.scope === 'string' ? { scope: tokens.scope } : {}),
    };
  } catch (err) {
    throw classifyExchangeError(err, [opts.clientSecret.reveal(), opts.code.reveal(), opts.codeVerifier.reveal()]);
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'TimeoutError',
  'AbortError',
]);

/**
 * The token endpoint's answer to an authorization-code exchange, as a typed error. Codes follow
 * RFC 6749 §5.2; `invalid_grant` here means the code (not a refresh token) was refused, which
 * calls for other advice than at refresh time. The endpoint's `error` and `error_description`
 * pass the same filter as at refresh time ({@link publicText}, with `secrets`: what the request
 * carried).
 */
export function classifyExchangeError(err: unknown, secrets: readonly string[]): GmailTransportError {
  const e = (typeof err === 'object' && err !== null ? err : {}) as {
    status?: unknown;
    code?: unknown;
    response?: { status?: unknown; data?: unknown };
  };
  const status = typeof e.status === 'number' ? e.status : typeof e.response?.status === 'number' ? e.response.status : undefined;
  const data = (typeof e.response?.data === 'object' && e.response.data !== null ? e.response.data : {}) as { error?: unknown; error_description?: unknown };
  const reason = publicText(data.error, secrets, 64);
  const description = publicText(data.error_description, secrets);
  // No `cause`: google-auth-library's error carries the request it sent, client secret, code
  // and verifier included, and util.inspect would print it.
  const base = {
    strategy: 'oauth2',
    phase: 'token' as const,
    ...(status !== undefined ? { httpStatus: status } : {}),
    ...(reason ? { reason } : {}),
    ...(description ? { response: description } : {}),
  };
  if (status === undefined) {
    const code = typeof e.code === 'string' ? e.code : undefined;
    if (code && NETWORK_CODES.has(code))
      return errorFor('CONNECTION_FAILED', { ...base, retryable: true, message: `Could not reach the token endpoint (${code})` });
    return errorFor('UNKNOWN', { ...base, message: 'The authorization code exchange failed unexpectedly' });
  }
  switch (reason) {
    case 'invalid_grant':
      return errorFor('OAUTH_INVALID_GRANT', { ...base, variant: 'auth-code', message: 'Google refused the authorization code (invalid_grant)' });
    case 'invalid_client':
    case 'unauthorized_client':
    case 'invalid_request':
      return errorFor('OAUTH_INVALID_CLIENT', { ...base, message: `Google refused the OAuth client (${reason})` });
    case 'invalid_scope':
      return errorFor('OAUTH_SCOPE_DENIED', { ...base, variant: 'consent', message: 'Google refused the scope (invalid_scope)' });
  }
  if (status === 429) return errorFor('RATE_LIMITED', { ...base, retryable: true, message: 'The token endpoint is throttling requests (HTTP 429)' });
  if (status >= 500) return errorFor('TEMPORARY_FAILURE', { ...base, retryable: true, message: `The token endpoint failed (HTTP ${status})` });
  return errorFor('PERMANENT_FAILURE', { ...base, message: `The token endpoint refused the exchange (HTTP ${status}${reason ? `, ${reason}` : ''})` });
}
