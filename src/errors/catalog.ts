import type { ErrorCode } from './error.js';

/** What each code means, in one line: the start of every error's `message`, and the generated error reference (docs/errors-reference.md). */
export const ERROR_MEANINGS: Readonly<Record<ErrorCode, string>> = Object.freeze({
  CONFIG_INVALID: 'Invalid configuration',
  AUTH_INVALID_CREDENTIALS: 'The server refused the login',
  AUTH_APP_PASSWORD_REQUIRED: 'Google requires an app password for this account',
  AUTH_WEB_LOGIN_REQUIRED: 'Google requires a browser sign-in before this login',
  AUTH_UNAVAILABLE: 'Credentials are configured, but the server offers no login (AUTH) method they can use',
  OAUTH_TOKEN_REJECTED: 'The server refused the OAuth2 access token, also after a refresh',
  OAUTH_INVALID_GRANT: 'Google refused the refresh token or assertion (invalid_grant)',
  OAUTH_INVALID_CLIENT: 'Google refused the OAuth2 client',
  OAUTH_SCOPE_DENIED: 'The OAuth2 credentials lack the required scope or delegation',
  RELAY_DENIED: 'The server refused to relay for this sender',
  TLS_REQUIRED: 'The server requires TLS',
  TLS_FAILED: 'The TLS connection failed',
  CONNECTION_FAILED: 'Could not connect to the mail server, or the connection was lost before the message was complete',
  RATE_LIMITED: 'Rate limited by the server',
  QUOTA_EXCEEDED: 'Sending quota exceeded',
  MESSAGE_INVALID: 'The message is invalid (found before connecting)',
  MESSAGE_REJECTED: 'The message was rejected',
  POLICY_REJECTED: 'The message was rejected by a sending policy',
  RECIPIENT_REJECTED: 'A recipient was rejected',
  SYNTAX_ERROR: 'The server rejected a command or address as malformed',
  TEMPORARY_FAILURE: 'Temporary server failure',
  PERMANENT_FAILURE: 'Permanent server failure',
  DELIVERY_UNCERTAIN: 'The connection was lost after the message was sent; delivery is uncertain',
  ABORTED: 'The send was cancelled by its AbortSignal before the message could be accepted',
  UNKNOWN: 'Unexpected error',
});

/**
 * Whether errors of each code are `retryable`. `depends` marks the codes whose flag follows
 * the cause: a certificate problem is not retryable, a handshake cut short is.
 */
export const RETRYABLE_BY_CODE: Readonly<Record<ErrorCode, 'yes' | 'no' | 'depends'>> = Object.freeze({
  CONFIG_INVALID: 'no',
  AUTH_INVALID_CREDENTIALS: 'no',
  AUTH_APP_PASSWORD_REQUIRED: 'no',
  AUTH_WEB_LOGIN_REQUIRED: 'no',
  AUTH_UNAVAILABLE: 'no',
  OAUTH_TOKEN_REJECTED: 'no',
  OAUTH_INVALID_GRANT: 'no',
  OAUTH_INVALID_CLIENT: 'no',
  OAUTH_SCOPE_DENIED: 'no',
  RELAY_DENIED: 'no',
  TLS_REQUIRED: 'no',
  TLS_FAILED: 'depends',
  CONNECTION_FAILED: 'yes',
  RATE_LIMITED: 'yes',
  // Google's refusal is not; the sending budget's own refusal is, after retryAfterMs.
  QUOTA_EXCEEDED: 'depends',
  MESSAGE_INVALID: 'no',
  MESSAGE_REJECTED: 'no',
  POLICY_REJECTED: 'no',
  RECIPIENT_REJECTED: 'no',
  SYNTAX_ERROR: 'no',
  TEMPORARY_FAILURE: 'yes',
  PERMANENT_FAILURE: 'no',
  DELIVERY_UNCERTAIN: 'no',
  ABORTED: 'no',
  UNKNOWN: 'no',
});
