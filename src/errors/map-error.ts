import { GmailTransportError, isGmailTransportError, type ErrorCode, type ErrorPhase } from '../errors.js';
import { hintFor, type HintKey, type Locale } from './hints.js';
import { classifySmtpReply, parseEnhancedCode } from './map-smtp.js';

/** What the caller knows about the failed operation, to classify an error more precisely. */
export interface MapErrorContext {
  /** The strategy in use: decides what a 535 means (wrong app password vs rejected token). */
  strategy?: string;
  /** How the route authenticates; `oauth2` turns a refused login into OAUTH_TOKEN_REJECTED. */
  authKind?: 'password' | 'app-password' | 'oauth2' | 'none';
  /** Whether the secret in use looked like an account password rather than an app password. */
  credentialShape?: 'app-password' | 'account-password';
  /** The phase, when the caller knows it better than the error does. */
  phase?: ErrorPhase;
  /** How far the message body got: decides between CONNECTION_FAILED and DELIVERY_UNCERTAIN. */
  body?: 'not-sent' | 'partial' | 'complete';
  /** The Message-ID of the message concerned. */
  messageId?: string;
  /** Language of the hint. @default 'en' */
  locale?: Locale;
}

// A token failure travels through nodemailer's provisionCallback as a plain Error carrying ours
// under this symbol: nodemailer rewrites `code` of the error it is given, and ours must not be
// mutated (STYLE.md §4).
export const CARRIED_ERROR = Symbol.for('gmail-transport.carried-error');

/** Wraps a GmailTransportError so it survives a trip through nodemailer's callbacks intact. */
export function carryError(error: GmailTransportError): Error {
  const carrier = new Error(error.message);
  Object.defineProperty(carrier, CARRIED_ERROR, { value: error, enumerable: false });
  return carrier;
}

const TLS_ERROR_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);

const CONNECTION_ERROR_CODES = new Set([
  'ECONNECTION',
  'ESOCKET',
  'ETIMEDOUT',
  'EDNS',
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPROXY',
]);

const SUMMARY: Record<ErrorCode, string> = {
  CONFIG_INVALID: 'Invalid configuration',
  AUTH_INVALID_CREDENTIALS: 'The server refused the login',
  AUTH_APP_PASSWORD_REQUIRED: 'Google requires an app password for this account',
  AUTH_WEB_LOGIN_REQUIRED: 'Google requires a browser sign-in before this login',
  OAUTH_TOKEN_REJECTED: 'The server refused the OAuth2 access token, also after a refresh',
  OAUTH_INVALID_GRANT: 'Google refused the refresh token or assertion (invalid_grant)',
  OAUTH_INVALID_CLIENT: 'Google refused the OAuth2 client',
  OAUTH_SCOPE_DENIED: 'The OAuth2 credentials lack the required scope or delegation',
  RELAY_DENIED: 'The server refused to relay for this sender',
  TLS_REQUIRED: 'The server requires TLS',
  TLS_FAILED: 'The TLS connection failed',
  CONNECTION_FAILED: 'Could not connect to the mail server',
  RATE_LIMITED: 'Rate limited by the server',
  QUOTA_EXCEEDED: 'Sending quota exceeded',
  MESSAGE_REJECTED: 'The message was rejected',
  POLICY_REJECTED: 'The message was rejected by a sending policy',
  RECIPIENT_REJECTED: 'A recipient was rejected',
  SYNTAX_ERROR: 'The server rejected a command as malformed',
  TEMPORARY_FAILURE: 'Temporary server failure',
  PERMANENT_FAILURE: 'Permanent server failure',
  DELIVERY_UNCERTAIN: 'The connection was lost after the message was sent; delivery is uncertain',
  UNKNOWN: 'Unexpected error',
};

interface NodemailerLikeError {
  code?: unknown;
  originalCode?: unknown;
  responseCode?: unknown;
  response?: unknown;
  command?: unknown;
  message?: unknown;
  rejectedErrors?: unknown;
}

/**
 * Turns any error from a send (nodemailer's, a socket's, a token endpoint's, ours) into a
 * {@link GmailTransportError}. The transport uses it for every failure; it is exported so code
 * that drives nodemailer directly can classify its errors the same way.
 *
 * @example
 * ```ts
 * try { await plainNodemailer.sendMail(msg); }
 * catch (err) { const e = mapError(err, { strategy: 'app-password' }); console.log(e.code, e.hint); }
 * ```
 */
export function mapError(error: unknown, context: MapErrorContext = {}): GmailTransportError {
  if (isGmailTransportError(error)) return error;
  const carried = typeof error === 'object' && error !== null ? (error as Record<symbol, unknown>)[CARRIED_ERROR] : undefined;
  if (isGmailTransportError(carried)) return carried;

  const err = (typeof error === 'object' && error !== null ? error : {}) as NodemailerLikeError;
  const locale = context.locale ?? 'en';
  const nmCode = typeof err.code === 'string' ? err.code : undefined;
  const originalCode = typeof err.originalCode === 'string' ? err.originalCode : undefined;
  const command = typeof err.command === 'string' ? err.command : undefined;
  const reply = replyOf(err);

  let phase = context.phase ?? phaseOfCommand(command);
  let code: ErrorCode;
  let retryable: boolean;
  let variant: string | undefined;

  // With requireTLS, nodemailer sends STARTTLS even when the server did not offer it, and a
  // server without it answers 500/502 "command not recognized" (RFC 3207 §4). That reply is no
  // syntax problem of ours: the channel cannot be encrypted, so it is a TLS failure (ETLS).
  const noStartTls = reply !== undefined && command === 'STARTTLS' && reply.code >= 500;
  if (reply && !noStartTls) {
    if (!context.phase && context.body && context.body !== 'not-sent' && phase === 'connect') phase = 'data';
    ({ code, retryable } = classifySmtpReply(reply.code, reply.text, phase));
    if (code === 'AUTH_INVALID_CREDENTIALS') {
      if (context.authKind === 'oauth2' || command === 'AUTH XOAUTH2') {
        // nodemailer already answered the 334 challenge by fetching a new token (renew) and
        // trying once more, so this 535 means a fresh token was refused too.
        code = 'OAUTH_TOKEN_REJECTED';
      } else if (context.credentialShape === 'account-password') {
        variant = 'basic-auth';
      } else if (context.strategy === 'app-password' || context.authKind === 'app-password') {
        variant = 'app-password';
      } else if (context.strategy === 'relay') {
        variant = 'relay';
      }
    }
  } else if (isTlsFailure(nmCode, originalCode, err.message)) {
    code = 'TLS_FAILED';
    retryable = false;
    phase = context.phase ?? (phase === 'connect' || phase === undefined ? 'tls' : phase);
  } else if ((nmCode && CONNECTION_ERROR_CODES.has(nmCode)) || (originalCode && CONNECTION_ERROR_CODES.has(originalCode))) {
    if (context.body === 'complete') {
      code = 'DELIVERY_UNCERTAIN';
      retryable = false;
      phase = 'data';
    } else {
      code = 'CONNECTION_FAILED';
      retryable = true;
      if (context.body === 'partial') phase = 'data';
      else phase ??= 'connect';
    }
  } else if (nmCode === 'EAUTH') {
    code = context.authKind === 'oauth2' ? 'OAUTH_TOKEN_REJECTED' : 'AUTH_INVALID_CREDENTIALS';
    retryable = false;
    phase ??= 'auth';
  } else if (nmCode === 'ENOAUTH' || nmCode === 'ECONFIG') {
    code = 'CONFIG_INVALID';
    retryable = false;
    phase = 'config';
  } else if (nmCode === 'EENVELOPE') {
    code = 'SYNTAX_ERROR';
    retryable = false;
    phase ??= 'mail';
  } else if (nmCode === 'EMAXRECIPIENTS') {
    code = 'POLICY_REJECTED';
    retryable = false;
  } else if (nmCode === 'EMESSAGE' && /size/i.test(String(err.message ?? ''))) {
    code = 'MESSAGE_REJECTED';
    retryable = false;
  } else {
    code = 'UNKNOWN';
    retryable = false;
  }

  const hintKey: HintKey = variant ? `${code}:${variant}` : code;
  const detail = reply ? `: ${firstLine(reply.text)}` : nmCode ? ` (${nmCode})` : '';
  return new GmailTransportError({
    code,
    retryable,
    message: `${SUMMARY[code]}${detail}`,
    hint: hintFor(hintKey, locale),
    cause: error,
    ...(context.strategy ? { strategy: context.strategy } : {}),
    ...(phase ? { phase } : {}),
    ...(reply ? { responseCode: reply.code, response: reply.text } : {}),
    ...(reply && parseEnhancedCode(reply.text) ? { enhancedCode: parseEnhancedCode(reply.text) } : {}),
    ...(context.messageId ? { messageId: context.messageId } : {}),
  });
}

/** The GmailTransportError for a code, for failures we detect ourselves. */
export function errorFor(
  code: ErrorCode,
  options: { message?: string; retryable?: boolean; strategy?: string; phase?: ErrorPhase; locale?: Locale; variant?: string; cause?: unknown } & Partial<
    Pick<GmailTransportError, 'httpStatus' | 'reason' | 'retryAfterMs' | 'messageId' | 'response' | 'responseCode'>
  > = {},
): GmailTransportError {
  const { message, variant, locale, ...rest } = options;
  return new GmailTransportError({
    ...rest,
    code,
    retryable: options.retryable ?? false,
    message: message ?? SUMMARY[code],
    hint: hintFor(variant ? `${code}:${variant}` : code, locale ?? 'en'),
  });
}

function replyOf(err: NodemailerLikeError): { code: number; text: string } | undefined {
  if (typeof err.responseCode === 'number' && err.responseCode >= 400 && typeof err.response === 'string') {
    return { code: err.responseCode, text: err.response };
  }
  // "all recipients were rejected": the replies live on the individual recipient errors.
  if (Array.isArray(err.rejectedErrors) && err.rejectedErrors.length > 0) {
    const first = err.rejectedErrors[0] as NodemailerLikeError;
    if (typeof first.responseCode === 'number' && typeof first.response === 'string') return { code: first.responseCode, text: first.response };
  }
  return undefined;
}

function phaseOfCommand(command: string | undefined): ErrorPhase | undefined {
  if (!command) return undefined;
  if (command === 'CONN') return 'connect';
  if (command === 'STARTTLS') return 'tls';
  if (command === 'EHLO' || command === 'HELO' || command === 'LHLO') return 'ehlo';
  if (command.startsWith('AUTH')) return 'auth';
  if (command === 'MAIL FROM') return 'mail';
  if (command === 'RCPT TO') return 'rcpt';
  if (command === 'DATA') return 'data';
  return undefined;
}

function isTlsFailure(code: string | undefined, originalCode: string | undefined, message: unknown): boolean {
  if (code === 'ETLS') return true;
  if (code && TLS_ERROR_CODES.has(code)) return true;
  if (originalCode && TLS_ERROR_CODES.has(originalCode)) return true;
  return typeof message === 'string' && /certificate|self[- ]signed|SSL routines|wrong version number|altnames/i.test(message);
}

function firstLine(text: string): string {
  const lines = text.split(/\r?\n/);
  const joined = lines.map((l) => l.replace(/^\d{3}[ -](\d\.\d{1,3}\.\d{1,3}\s+)?/, '').trim()).filter(Boolean).join(' ');
  const enhanced = parseEnhancedCode(text);
  return `${text.slice(0, 3)}${enhanced ? ` ${enhanced}` : ''} ${joined}`.slice(0, 300);
}
