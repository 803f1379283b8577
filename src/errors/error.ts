/**
 * The one error class of gmail-transport. Callers narrow on `code`, never on the class of a
 * subclass or on the text of `message`.
 */

/**
 * Every code a {@link GmailTransportError} can carry. Codes are public API: adding one is a
 * minor release, renaming or removing one a major release.
 */
export const ERROR_CODES = [
  'CONFIG_INVALID',
  'AUTH_INVALID_CREDENTIALS',
  'AUTH_APP_PASSWORD_REQUIRED',
  'AUTH_WEB_LOGIN_REQUIRED',
  'AUTH_UNAVAILABLE',
  'OAUTH_TOKEN_REJECTED',
  'OAUTH_INVALID_GRANT',
  'OAUTH_INVALID_CLIENT',
  'OAUTH_SCOPE_DENIED',
  'RELAY_DENIED',
  'TLS_REQUIRED',
  'TLS_FAILED',
  'CONNECTION_FAILED',
  'RATE_LIMITED',
  'QUOTA_EXCEEDED',
  'MESSAGE_INVALID',
  'MESSAGE_REJECTED',
  'POLICY_REJECTED',
  'RECIPIENT_REJECTED',
  'SYNTAX_ERROR',
  'TEMPORARY_FAILURE',
  'PERMANENT_FAILURE',
  'DELIVERY_UNCERTAIN',
  'ABORTED',
  'UNKNOWN',
] as const;

/** A stable, machine-readable error code. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Where in the life of a send the failure happened. */
export type ErrorPhase = 'config' | 'message' | 'token' | 'connect' | 'tls' | 'ehlo' | 'auth' | 'mail' | 'rcpt' | 'data' | 'api' | 'budget';

/** One problem found while validating a config: the field path and what is wrong with it. */
export interface ConfigIssue {
  /** Dotted path of the field, e.g. `smtp.port` or `transports[1].clientId`. */
  path: string;
  /** What is wrong, never the value itself (it may be a secret). */
  message: string;
  /** What to do about this field, in the config's locale. */
  hint?: string;
}

/** Fields a {@link GmailTransportError} is built from. */
export interface GmailTransportErrorOptions {
  code: ErrorCode;
  message: string;
  retryable?: boolean;
  hint?: string;
  cause?: unknown;
  strategy?: string;
  phase?: ErrorPhase;
  responseCode?: number;
  enhancedCode?: string;
  response?: string;
  httpStatus?: number;
  reason?: string;
  messageId?: string;
  retryAfterMs?: number;
  issues?: readonly ConfigIssue[];
  errors?: readonly GmailTransportError[];
  route?: number;
}

// A registry-wide symbol, so that an error made by our CJS build is recognised by our ESM build
// (and by another installed copy of the package), where `instanceof` fails across the two.
const BRAND = Symbol.for('gmail-transport.error');

/**
 * The error every public entry point rejects with.
 *
 * @example
 * ```ts
 * try { await transport.sendMail(msg); }
 * catch (err) {
 *   if (isGmailTransportError(err) && err.retryable) queue.retryLater(msg, err.code);
 *   else throw err;
 * }
 * ```
 */
export class GmailTransportError extends Error {
  override readonly name = 'GmailTransportError';
  /** Stable machine-readable code. */
  readonly code: ErrorCode;
  /** Whether the same request may succeed later with no change of credentials or settings. */
  readonly retryable: boolean;
  /** What to do next, in one or two sentences. */
  declare readonly hint?: string;
  /** The strategy that failed (`app-password`, `oauth2`, …). */
  declare readonly strategy?: string;
  /** Where the failure happened. */
  declare readonly phase?: ErrorPhase;
  /** SMTP reply code, e.g. 535. */
  declare readonly responseCode?: number;
  /** RFC 3463 enhanced status code, e.g. `5.7.8`. */
  declare readonly enhancedCode?: string;
  /** The server's reply text. */
  declare readonly response?: string;
  /** HTTP status, for the Gmail API and the token endpoint. */
  declare readonly httpStatus?: number;
  /** Google's `reason` (Gmail API) or OAuth `error` value (token endpoint). */
  declare readonly reason?: string;
  /** Message-ID of the message concerned, where there is one. */
  declare readonly messageId?: string;
  /** How long the server asked us to wait, where it said so. */
  declare readonly retryAfterMs?: number;
  /** For `CONFIG_INVALID`: every problem found, by field path. */
  declare readonly issues?: readonly ConfigIssue[];
  /** For a failover that ran out of routes: each route's error, in order. */
  declare readonly errors?: readonly GmailTransportError[];
  /** For failover: the index of the route that produced this error. */
  declare readonly route?: number;

  constructor(options: GmailTransportErrorOptions) {
    super(options.message);
    this.code = options.code;
    this.retryable = options.retryable ?? false;
    assignDefined(this, {
      hint: options.hint,
      strategy: options.strategy,
      phase: options.phase,
      responseCode: options.responseCode,
      enhancedCode: options.enhancedCode,
      response: options.response,
      httpStatus: options.httpStatus,
      reason: options.reason,
      messageId: options.messageId,
      retryAfterMs: options.retryAfterMs,
      issues: options.issues,
      errors: options.errors,
      route: options.route,
    });
    if (options.cause !== undefined) {
      // Non-enumerable, as ES2022 `cause` is: the original error may carry request options or
      // server data we do not control, and must not be serialised by JSON.stringify(err).
      Object.defineProperty(this, 'cause', {
        value: options.cause,
        enumerable: false,
        writable: true,
        configurable: true,
      });
    }
    Object.defineProperty(this, BRAND, { value: true, enumerable: false });
  }

  /** A plain object with the public fields; `cause` and the stack are left out on purpose. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { name: this.name, code: this.code, message: this.message, retryable: this.retryable };
    for (const key of Object.keys(this)) {
      if (key === 'code' || key === 'retryable' || key === 'name') continue;
      out[key] = (this as unknown as Record<string, unknown>)[key];
    }
    return out;
  }
}

function assignDefined(target: object, fields: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) Object.defineProperty(target, key, { value, enumerable: true, writable: false });
  }
}

/**
 * Whether `value` is a {@link GmailTransportError}, from either of our builds or another copy.
 */
export function isGmailTransportError(value: unknown): value is GmailTransportError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}
