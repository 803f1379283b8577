import { GmailTransportError, isGmailTransportError, type ErrorCode, type ErrorPhase } from './error.js';
import { ERROR_MEANINGS } from './catalog.js';
import { hintFor, type HintKey, type Locale } from './hints.js';
import { classifySmtpReply, isXoauth2Challenge, parseEnhancedCode, replyText } from './map-smtp.js';

/** What the caller knows about the failed operation, to classify an error more precisely. */
export interface MapErrorContext {
  /** The strategy in use: decides what a 535 means (wrong app password vs rejected token). */
  strategy?: string;
  /** How the route authenticates; `oauth2` turns a refused login into OAUTH_TOKEN_REJECTED. */
  authKind?: 'password' | 'app-password' | 'oauth2' | 'none';
  /** Whether the secret in use looked like an account password rather than an app password. */
  credentialShape?: 'app-password' | 'account-password';
  /** The phase, when the caller knows it better than the error does. Overrides inference. */
  phase?: ErrorPhase;
  /**
   * The furthest phase the operation is known to have reached. Used only when the error does
   * not tell (nodemailer reports every dropped connection as `CONN`).
   */
  reached?: ErrorPhase;
  /**
   * How far the message body got. A failure with no server reply after the body was complete
   * is DELIVERY_UNCERTAIN: the server may have accepted the message before the reply was lost.
   */
  body?: 'not-sent' | 'partial' | 'complete';
  /**
   * Whether the caller's AbortSignal for this operation has fired. nodemailer's own AbortError
   * (`code: 'EABORT'`) is always taken as the abort; an error that is merely named `AbortError`
   * (fetch's, a stream's) only with this set, since it may come from another signal, such as
   * one that ended a message's content stream.
   */
  aborted?: boolean;
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

// The server's certificate is not trusted for this host: the fix is its CA in smtp.tls.ca or the
// right host name, never switching verification off.
const CERTIFICATE_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);
// Certificate and protocol-version problems: the same connection fails the same way again.
const TLS_DETERMINISTIC_CODES = new Set([
  ...CERTIFICATE_CODES,
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_UNSUPPORTED_PROTOCOL',
  'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
  'EPROTO',
]);
const TLS_DETERMINISTIC_TEXT = /certificate|self[- ]signed|wrong version number|unsupported protocol|altnames|alert protocol version|handshake failure/i;

const CONNECTION_ERROR_CODES = new Set([
  'ECONNECTION',
  'ESOCKET',
  'ETIMEDOUT',
  'EDNS',
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPROXY',
  // A peer that does not speak SMTP (a wrong port): nothing was accepted.
  'EPROTOCOL',
]);

// nodemailer's own checks of a message ("No recipients defined", "Message has 3 recipients, which
// is over the 2 allowed by maxRecipients"): its texts name counts and addresses, no secret.
const MESSAGE_CHECK_CODES = new Set(['EENVELOPE', 'EMAXRECIPIENTS']);

// RFC 6749 §5.2 error values, as nodemailer's own XOAuth2 reports them ("invalid_grant: Bad Request").
const OAUTH_ERRORS: ReadonlyArray<[RegExp, ErrorCode]> = [
  [/\binvalid_grant\b/, 'OAUTH_INVALID_GRANT'],
  [/\binvalid_client\b/, 'OAUTH_INVALID_CLIENT'],
  [/\b(unauthorized_client|invalid_scope|access_denied)\b/, 'OAUTH_SCOPE_DENIED'],
];

interface NodemailerLikeError {
  code?: unknown;
  originalCode?: unknown;
  responseCode?: unknown;
  response?: unknown;
  command?: unknown;
  message?: unknown;
  rejectedErrors?: unknown;
}

interface Verdict {
  code: ErrorCode;
  retryable: boolean;
  phase?: ErrorPhase | undefined;
  variant?: string | undefined;
}

/**
 * Turns any error from a send (nodemailer's, a socket's, a token endpoint's, ours) into a
 * {@link GmailTransportError}. The transport uses it for every failure; it is exported so code
 * that drives nodemailer directly can classify its errors the same way. A GmailTransportError
 * is returned as it is.
 *
 * @example
 * ```ts
 * try { await plainNodemailer.sendMail(msg); }
 * catch (err) {
 *   const e = mapError(err, { strategy: 'app-password', locale: 'ja' });
 *   if (e.retryable) queue.retryLater(msg, e.code); else alert(e.hint);
 * }
 * ```
 */
export function mapError(error: unknown, context: MapErrorContext = {}): GmailTransportError {
  if (isGmailTransportError(error)) return error;
  const carried = typeof error === 'object' && error !== null ? (error as Record<symbol, unknown>)[CARRIED_ERROR] : undefined;
  if (isGmailTransportError(carried)) return carried;

  const err = (typeof error === 'object' && error !== null ? error : {}) as NodemailerLikeError;
  const nmCode = typeof err.code === 'string' ? err.code : undefined;
  const originalCode = typeof err.originalCode === 'string' ? err.originalCode : undefined;
  const command = typeof err.command === 'string' ? err.command : undefined;
  const reply = replyOf(err, command);
  const inferred = inferPhase(command, context);
  const verdict = reply ? judgeReply(reply, nmCode, command, inferred, context) : judgeFailure(err, nmCode, originalCode, inferred, context);

  const hintKey: HintKey = verdict.variant ? `${verdict.code}:${verdict.variant}` : verdict.code;
  const reason = reply ? undefined : reasonOf(err, originalCode);
  const detail = reply ? `: ${summarizeReply(reply.text)}` : reason ? `: ${reason}` : nmCode ? ` (${nmCode})` : '';
  const messageId = context.messageId;
  const suffix = verdict.code === 'DELIVERY_UNCERTAIN' && messageId ? ` (Message-ID ${messageId})` : '';
  const enhancedCode = reply ? parseEnhancedCode(reply.text) : undefined;
  return new GmailTransportError({
    code: verdict.code,
    retryable: verdict.retryable,
    message: `${ERROR_MEANINGS[verdict.code]}${detail}${suffix}`,
    hint: hintFor(hintKey, context.locale ?? 'en'),
    // nodemailer's AbortError carries the signal's reason as its cause: ours carries the reason.
    cause: nmCode === 'EABORT' && 'cause' in err ? (err as { cause?: unknown }).cause : error,
    ...(context.strategy ? { strategy: context.strategy } : {}),
    ...(verdict.phase ? { phase: verdict.phase } : {}),
    ...(reply ? { responseCode: reply.code, response: reply.text } : {}),
    ...(enhancedCode ? { enhancedCode } : {}),
    ...(messageId ? { messageId } : {}),
  });
}

/**
 * The GmailTransportError for a code, for failures a route detects itself (an HTTP status, a
 * message too big to send). The hint comes from hints.ts, in `locale`, refined by `variant`.
 */
export function errorFor(
  code: ErrorCode,
  options: { message?: string; retryable?: boolean; strategy?: string; phase?: ErrorPhase; locale?: Locale; variant?: string; cause?: unknown } & Partial<
    Pick<GmailTransportError, 'httpStatus' | 'reason' | 'retryAfterMs' | 'messageId' | 'response' | 'responseCode' | 'enhancedCode'>
  > = {},
): GmailTransportError {
  const { message, variant, locale, ...rest } = options;
  return new GmailTransportError({
    ...rest,
    code,
    retryable: options.retryable ?? false,
    message: message ?? ERROR_MEANINGS[code],
    hint: hintFor(variant ? `${code}:${variant}` : code, locale ?? 'en'),
  });
}

/** The server answered: its reply decides, read with the phase and the way we logged in. */
function judgeReply(
  reply: { code: number; text: string },
  nmCode: string | undefined,
  command: string | undefined,
  phase: ErrorPhase | undefined,
  context: MapErrorContext,
): Verdict {
  if (command === 'STARTTLS') {
    // With requireTLS nodemailer sends STARTTLS even when it was not offered; a server without
    // it answers 500/502 "command not recognized", no syntax problem of ours: the channel cannot
    // be encrypted. RFC 3207 §4 calls 454 "TLS not available due to temporary reason", but an
    // internal relay without a certificate answers it on every connection: retrying the same
    // server changes nothing, and the fix (smtp.requireTLS: false for a trusted relay) is the user's.
    return { code: 'TLS_FAILED', retryable: false, phase: 'tls', variant: 'starttls-unavailable' };
  }
  const { code, retryable, variant } = classifySmtpReply(reply.code, reply.text, phase);
  if (code !== 'AUTH_INVALID_CREDENTIALS') return { code, retryable, phase, variant };
  if (context.authKind === 'oauth2' || command === 'AUTH XOAUTH2') {
    // nodemailer answers Google's 334 challenge by asking for a new token (renew) and trying
    // once more, so this 535 means a freshly refreshed token was refused too.
    return { code: 'OAUTH_TOKEN_REJECTED', retryable: false, phase, variant: context.strategy === 'service-account' ? 'service-account' : undefined };
  }
  return { code, retryable, phase, variant: credentialVariant(context) };
}

/** No reply to go by: the kind of failure, and how far the message got, decide. */
function judgeFailure(
  err: NodemailerLikeError,
  nmCode: string | undefined,
  originalCode: string | undefined,
  phase: ErrorPhase | undefined,
  context: MapErrorContext,
): Verdict {
  const aborted = isAbort(err, nmCode, context);
  if (context.body === 'complete') {
    // The whole message and its final dot may have reached the server, which may have queued
    // it before its reply was lost (RFC 5321 §6.1 makes it responsible once it replies 250).
    // Aborting then cannot take it back either.
    return { code: 'DELIVERY_UNCERTAIN', retryable: false, phase: 'data', variant: aborted ? 'aborted' : undefined };
  }
  // nodemailer's EABORT (sendMail's `signal`): before the final dot, nothing was accepted.
  if (aborted) return { code: 'ABORTED', retryable: false, phase };
  const message = typeof err.message === 'string' ? err.message : '';
  if (nmCode === 'EAUTH' || originalCode === 'EOAUTH2') {
    const oauth = OAUTH_ERRORS.find(([pattern]) => pattern.test(message));
    if (oauth)
      return {
        code: oauth[1],
        retryable: false,
        phase: 'token',
        variant: oauth[1] === 'OAUTH_INVALID_GRANT' && context.strategy === 'service-account' ? 'service-account' : undefined,
      };
  }
  if (nmCode === 'ETLS' || isTlsCode(nmCode) || isTlsCode(originalCode) || TLS_DETERMINISTIC_TEXT.test(message)) {
    const deterministic = isTlsCode(nmCode) || isTlsCode(originalCode) || TLS_DETERMINISTIC_TEXT.test(message);
    const certificate = CERTIFICATE_CODES.has(nmCode ?? '') || CERTIFICATE_CODES.has(originalCode ?? '');
    return {
      code: 'TLS_FAILED',
      retryable: !deterministic,
      phase: context.phase ?? (phase === undefined || phase === 'connect' ? 'tls' : phase),
      variant: certificate ? 'certificate' : undefined,
    };
  }
  if ((nmCode && CONNECTION_ERROR_CODES.has(nmCode)) || (originalCode && CONNECTION_ERROR_CODES.has(originalCode))) {
    return { code: 'CONNECTION_FAILED', retryable: true, phase: phase ?? 'connect' };
  }
  switch (nmCode) {
    case 'EAUTH':
      return context.authKind === 'oauth2'
        ? { code: 'OAUTH_TOKEN_REJECTED', retryable: false, phase: phase ?? 'auth' }
        : { code: 'AUTH_INVALID_CREDENTIALS', retryable: false, phase: phase ?? 'auth', variant: credentialVariant(context) };
    case 'ENOAUTH':
    case 'ECONFIG':
      return { code: 'CONFIG_INVALID', retryable: false, phase: 'config' };
    case 'EREQUIRETLS':
      return { code: 'TLS_REQUIRED', retryable: false, phase: phase ?? 'mail' };
    case 'EENVELOPE':
    case 'EMAXRECIPIENTS':
      // nodemailer refused the message itself before the server had a say: no recipients, an
      // address it cannot encode, more recipients than the message's own maxRecipients.
      return { code: 'MESSAGE_INVALID', retryable: false, phase: 'message' };
    case 'EMESSAGE':
      if (/size/i.test(message)) return { code: 'MESSAGE_REJECTED', retryable: false, phase: phase ?? 'mail' };
  }
  return { code: 'UNKNOWN', retryable: false, phase };
}

/** nodemailer's AbortError (`code: 'EABORT'`), or a DOM-style one once the caller's signal fired. */
function isAbort(err: NodemailerLikeError, nmCode: string | undefined, context: MapErrorContext): boolean {
  return nmCode === 'EABORT' || (context.aborted === true && (err as { name?: unknown }).name === 'AbortError');
}

function credentialVariant(context: MapErrorContext): string | undefined {
  if (context.credentialShape === 'account-password') return 'basic-auth';
  if (context.strategy === 'app-password' || context.authKind === 'app-password') return 'app-password';
  if (context.strategy === 'relay') return 'relay';
  return undefined;
}

function replyOf(err: NodemailerLikeError, command: string | undefined): { code: number; text: string } | undefined {
  if (typeof err.responseCode === 'number' && typeof err.response === 'string') {
    if (err.responseCode >= 400) return { code: err.responseCode, text: err.response };
    if (err.responseCode === 334 && (command === undefined || command.startsWith('AUTH')) && isXoauth2Challenge(err.response)) {
      return { code: 334, text: err.response };
    }
  }
  // "All recipients were rejected": the replies live on the individual recipient errors.
  if (Array.isArray(err.rejectedErrors) && err.rejectedErrors.length > 0) {
    const first = err.rejectedErrors[0] as NodemailerLikeError;
    if (typeof first.responseCode === 'number' && typeof first.response === 'string') return { code: first.responseCode, text: first.response };
  }
  return undefined;
}

/**
 * nodemailer names the command in flight; a dropped connection is always `CONN`, so what the
 * caller saw (the body streaming, the envelope started) refines it.
 */
function inferPhase(command: string | undefined, context: MapErrorContext): ErrorPhase | undefined {
  if (context.phase) return context.phase;
  const fromCommand = phaseOfCommand(command);
  if (fromCommand !== undefined && fromCommand !== 'connect') return fromCommand;
  if (context.body === 'partial' || context.body === 'complete') return 'data';
  return context.reached ?? fromCommand;
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

function isTlsCode(code: string | undefined): boolean {
  return code !== undefined && TLS_DETERMINISTIC_CODES.has(code);
}

/**
 * What went wrong below SMTP, in the words of the socket, DNS or TLS layer (`connect
 * ECONNREFUSED 127.0.0.1:9`, `self-signed certificate`, `wrong version number`, nodemailer's
 * `Greeting never received`), or nodemailer's check of the message: the one detail that tells
 * a wrong port from a firewall. Only the texts of those layers are used, which name hosts,
 * ports and addresses but never a credential; anything else (a plugin's error, a token
 * endpoint's answer) keeps its code only.
 */
function reasonOf(err: NodemailerLikeError & { timeoutType?: unknown }, originalCode: string | undefined): string | undefined {
  const code = typeof err.code === 'string' ? err.code : undefined;
  // A proxy's error may quote its URL, credentials included.
  const layerCode =
    (code !== undefined && MESSAGE_CHECK_CODES.has(code)) ||
    [originalCode, code].some((c) => c !== undefined && c !== 'EPROXY' && (CONNECTION_ERROR_CODES.has(c) || isTlsCode(c) || c.startsWith('ERR_SSL_')));
  if ((!layerCode && typeof err.timeoutType !== 'string') || typeof err.message !== 'string') return undefined;
  let text = err.message.replace(/^Error initiating TLS - /, '');
  // OpenSSL's "<id>:error:<code>:SSL routines:<function>:<reason>:<file>:<line>:" keeps its reason.
  text = /^[0-9A-F]+:error:[0-9A-F]+:[^:]*:[^:]*:([^:]+):/.exec(text)?.[1] ?? text;
  text = text.replace(/\s+/g, ' ').trim().slice(0, 200);
  if (text === '') return undefined;
  // TLS codes (DEPTH_ZERO_SELF_SIGNED_CERT) are worth searching for; socket codes are in the text.
  return originalCode && !/^E[A-Z]+$/.test(originalCode) && !text.includes(originalCode) ? `${text} (${originalCode})` : text;
}

/** `535 5.7.8 Username and Password not accepted. ...`, on one line, at most 300 characters. */
function summarizeReply(text: string): string {
  const enhanced = parseEnhancedCode(text);
  return `${text.trimStart().slice(0, 3)}${enhanced ? ` ${enhanced}` : ''} ${replyText(text)}`.slice(0, 300);
}
