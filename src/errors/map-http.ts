import type { ErrorCode } from './error.js';

/**
 * The error body Google's JSON APIs return, in its two shapes: the legacy one (`errors[]` with a
 * `reason` per entry) and the google.rpc one (`status` plus `details[]`, where an `ErrorInfo`
 * carries a reason such as `SERVICE_DISABLED`). The Gmail API often sends both at once.
 * https://developers.google.com/workspace/gmail/api/guides/handle-errors
 */
export interface GoogleErrorBody {
  error?: {
    code?: number;
    message?: string;
    status?: string;
    errors?: Array<{ reason?: string; message?: string; domain?: string }>;
    details?: Array<{ '@type'?: string; reason?: string }>;
  };
}

/** What an HTTP failure of the Gmail API means to a sender. */
export interface HttpClassification {
  code: ErrorCode;
  retryable: boolean;
  /** Hint variant, e.g. `api-disabled` for `OAUTH_INVALID_CLIENT:api-disabled`. */
  variant?: string;
  /** The most specific reason Google gave (`errors[].reason`, else an ErrorInfo reason, else `status`). */
  reason?: string;
  /** Google's own message, first line. */
  message?: string;
}

interface HttpRule {
  /** Any of these reasons (legacy `errors[].reason`, ErrorInfo reasons, or the rpc `status`). */
  reasons?: readonly string[];
  statuses?: readonly number[];
  /** Google's wording, for reasons that cover several meanings. */
  text?: RegExp;
  result: ErrorCode;
  retryable: boolean;
  variant?: string;
}

/**
 * Classify on Google's reasons, not the HTTP status alone: rate limits come as 403 or 429 and a
 * 403 is also "API disabled", "daily limit" and "domain policy". Rows are tried in order, the
 * first match wins. Each comment names the fixture (test/fixtures/google-replies.json id).
 */
const RULES: readonly HttpRule[] = [
  // gmailapi-401-autherror-doc, gmailapi-401-unauthenticated. The route refreshes the token and
  // resends once before it reports this (Google: "refresh the access token").
  { statuses: [401], result: 'OAUTH_TOKEN_REJECTED', retryable: false, variant: 'gmail-api' },
  // gmailapi-403-access-not-configured: the Gmail API is not enabled in the client's project.
  { reasons: ['accessNotConfigured', 'SERVICE_DISABLED'], result: 'OAUTH_INVALID_CLIENT', retryable: false, variant: 'api-disabled' },
  // dailyLimitExceeded worded as the user's sending limit (https://support.google.com/a/answer/166852):
  // the mailbox's limit, not the project's.
  { reasons: ['dailyLimitExceeded'], text: /\buser\b.*\bsending\b/i, result: 'QUOTA_EXCEEDED', retryable: false },
  // gmailapi-403-dailylimitexceeded-doc: the project's daily API quota.
  { reasons: ['dailyLimitExceeded', 'quotaExceeded'], result: 'QUOTA_EXCEEDED', retryable: false, variant: 'api-project' },
  // gmailapi-429-user-rate-limit-retry-after, "(Mail sending)" variant: the user's daily
  // sending limit (https://support.google.com/a/answer/166852), which lasts until the time given.
  { statuses: [429], text: /\(Mail sending\)/i, result: 'QUOTA_EXCEEDED', retryable: false },
  // gmailapi-403-ratelimitexceeded-doc, gmailapi-403-queries-per-minute-quota,
  // gmailapi-429-user-rate-limit-retry-after.
  {
    reasons: ['userRateLimitExceeded', 'rateLimitExceeded', 'RATE_LIMIT_EXCEEDED', 'RESOURCE_EXHAUSTED'],
    result: 'RATE_LIMITED',
    retryable: true,
    variant: 'gmail-api',
  },
  { statuses: [429], result: 'RATE_LIMITED', retryable: true, variant: 'gmail-api' },
  // gmailapi-403-insufficient-permission: the token lacks gmail.send (or a broader scope).
  { reasons: ['insufficientPermissions', 'ACCESS_TOKEN_SCOPE_INSUFFICIENT'], result: 'OAUTH_SCOPE_DENIED', retryable: false, variant: 'gmail-api' },
  // "Delegation denied for <user>": the token belongs to another account than `user`.
  { reasons: ['forbidden', 'PERMISSION_DENIED'], text: /Delegation denied/i, result: 'OAUTH_SCOPE_DENIED', retryable: false, variant: 'gmail-api' },
  // gmailapi-403-domainpolicy-doc: the Workspace admins disabled Gmail API access for apps.
  { reasons: ['domainPolicy'], result: 'POLICY_REJECTED', retryable: false, variant: 'domain-policy' },
  // gmailapi-400-precondition-check-failed. Our choice: OAUTH_SCOPE_DENIED, because the common
  // causes are about whose mailbox the credentials reach (a service account calling without
  // impersonating a user, delegation missing, a user without Gmail), not about the message: the
  // same message fails on this route every time and may succeed on another one (failover).
  { reasons: ['failedPrecondition', 'FAILED_PRECONDITION'], result: 'OAUTH_SCOPE_DENIED', retryable: false, variant: 'failed-precondition' },
  // gmailapi-400-invalid-to-header, gmailapi-400-recipient-address-required.
  {
    reasons: ['invalidArgument', 'badRequest', 'INVALID_ARGUMENT'],
    text: /recipient|\b(to|cc|bcc) header|address/i,
    result: 'RECIPIENT_REJECTED',
    retryable: false,
  },
  { reasons: ['invalidArgument', 'badRequest', 'INVALID_ARGUMENT'], result: 'SYNTAX_ERROR', retryable: false },
  // "Request Entity Too Large": over Gmail's 35 MB, when our own check did not catch it first.
  { statuses: [413], result: 'MESSAGE_REJECTED', retryable: false, variant: 'gmail-api-size' },
  // gmailapi-500-backenderror-doc: Google asks for a retry with exponential backoff.
  { reasons: ['backendError', 'internalError', 'INTERNAL', 'UNAVAILABLE'], result: 'TEMPORARY_FAILURE', retryable: true },
  { statuses: [500, 502, 503, 504], result: 'TEMPORARY_FAILURE', retryable: true },
];

/** Every reason a Google error body carries, most specific first. */
export function reasonsOf(body: GoogleErrorBody | undefined): string[] {
  const error = body?.error;
  if (!error) return [];
  const reasons: string[] = [];
  for (const entry of error.errors ?? []) if (typeof entry?.reason === 'string') reasons.push(entry.reason);
  for (const detail of error.details ?? []) if (typeof detail?.reason === 'string') reasons.push(detail.reason);
  if (typeof error.status === 'string') reasons.push(error.status);
  return reasons;
}

/**
 * Classifies a failed Gmail API response. Pure and table-driven. Default: other 4xx are
 * permanent (`PERMANENT_FAILURE`), other 5xx temporary and retryable.
 */
export function classifyGmailApiError(status: number, body: GoogleErrorBody | undefined): HttpClassification {
  const reasons = reasonsOf(body);
  const message = googleMessage(body);
  const facts = { ...(reasons[0] ? { reason: reasons[0] } : {}), ...(message ? { message } : {}) };
  for (const rule of RULES) {
    if (rule.statuses && !rule.statuses.includes(status)) continue;
    if (rule.reasons && !rule.reasons.some((r) => reasons.includes(r))) continue;
    if (rule.text && !rule.text.test(message ?? '')) continue;
    return { code: rule.result, retryable: rule.retryable, ...(rule.variant ? { variant: rule.variant } : {}), ...facts };
  }
  if (status >= 500) return { code: 'TEMPORARY_FAILURE', retryable: true, ...facts };
  return { code: 'PERMANENT_FAILURE', retryable: false, ...facts };
}

/**
 * How long the server asked us to wait: the `Retry-After` header (delta-seconds or an HTTP-date,
 * RFC 9110 §10.2.3), else the "Retry after <ISO time>" Gmail writes into some 429 messages.
 * `undefined` when neither is there or the time has already passed.
 */
export function parseRetryAfter(header: string | null | undefined, body: GoogleErrorBody | undefined, now: number = Date.now()): number | undefined {
  if (header) {
    const value = header.trim();
    if (/^\d+$/.test(value)) return Number(value) * 1000;
    const date = Date.parse(value);
    if (!Number.isNaN(date)) return date > now ? date - now : undefined;
  }
  const match = /Retry after (\d{4}-\d{2}-\d{2}T[\d:.]+Z)/i.exec(googleMessage(body) ?? '');
  if (match?.[1]) {
    const at = Date.parse(match[1]);
    if (!Number.isNaN(at) && at > now) return at - now;
  }
  return undefined;
}

function googleMessage(body: GoogleErrorBody | undefined): string | undefined {
  const message = body?.error?.message ?? body?.error?.errors?.[0]?.message;
  if (typeof message !== 'string') return undefined;
  return message.split(/\r?\n/)[0]!.replace(/\s+/g, ' ').trim().slice(0, 300);
}
