import type { ErrorCode, ErrorPhase } from './error.js';

/** One row of the SMTP reply table: what to match, and what it means to a sender. */
interface SmtpRule {
  /** Reply code, or a list of codes. */
  code?: number | readonly number[];
  /** Reply class: 4 (transient) or 5 (permanent), RFC 5321 §4.2.1. */
  replyClass?: 4 | 5;
  /** Enhanced status code, exact (`5.7.8`) or by class and subject (`5.5.`), RFC 3463. */
  enhanced?: string;
  /** Google's wording, matched on the reply with its line prefixes removed. */
  text?: RegExp;
  /** Phases the row applies to; any phase when absent. */
  phases?: readonly ErrorPhase[];
  result: ErrorCode;
  retryable: boolean;
  /** Selects a more specific hint for the code (see hints.ts). */
  variant?: string;
}

/**
 * Reply code + enhanced code alone are not enough with Google: `421 4.7.0`, `530 5.7.0`,
 * `534 5.7.9` and `550 5.7.1` each carry several meanings, told apart by the text (see
 * test/fixtures/google-replies.json). The `?p=` help token (BadCredentials, InvalidSecondFactor,
 * WantAuthError, ...) is the most stable key across rewordings, so it is matched first where
 * there is one. Rows are tried in order and the first match wins: wordings that name the
 * problem come before the code-only rows. Each comment names the fixture ids the row is
 * tested against (test/errors/map-smtp.test.ts).
 */
const RULES: readonly SmtpRule[] = [
  // gmail-534-579-app-password-required: 2-Step Verification is on and the account password was sent.
  { text: /InvalidSecondFactor|Application-specific password required/i, result: 'AUTH_APP_PASSWORD_REQUIRED', retryable: false },
  // gmail-534-5714-signin-continue: Google wants an interactive sign-in first.
  { text: /WebLoginRequired|accounts\.google\.com\/signin\/continue|log ?in via your web browser/i, result: 'AUTH_WEB_LOGIN_REQUIRED', retryable: false },
  { code: 534, enhanced: '5.7.14', result: 'AUTH_WEB_LOGIN_REQUIRED', retryable: false },
  // gmail-535-578-badcredentials-*, gmail-535-571-badcredentials-legacy-xoauth2: the same text
  // answers a wrong app password, a plain account password and a refused XOAUTH2 token; the
  // strategy decides what to tell the user (map-error.ts).
  { code: 535, result: 'AUTH_INVALID_CREDENTIALS', retryable: false },
  { text: /BadCredentials|Username and Password not accepted/i, phases: ['auth'], result: 'AUTH_INVALID_CREDENTIALS', retryable: false },
  // gmail-454-470-too-many-login-attempts: one login per message trips it; a pool avoids that.
  { code: 454, text: /too many login attempts/i, result: 'RATE_LIMITED', retryable: true, variant: 'login' },
  // gmail-454-470-auth-temporary-problem
  { code: 454, result: 'TEMPORARY_FAILURE', retryable: true },
  // gmail-530-570-starttls-first-auth, gmail-530-570-starttls-first-mail; Google's documented
  // "421 4.7.0 TLS required for RCPT domain" (support.google.com/a/answer/3726730).
  {
    text: /Must issue a STARTTLS command first|\bTLS required\b|Encryption required|requires? (a )?secure connection/i,
    result: 'TLS_REQUIRED',
    retryable: false,
  },
  // gmail-530-570-authentication-required(-2025): smtp.gmail.com takes MAIL only after AUTH.
  { code: 530, text: /Authentication Required|WantAuthError/i, result: 'RELAY_DENIED', retryable: false, variant: 'auth-required' },
  // relay-550-571-invalid-credentials-for-relay, doc-550-570-mail-relay-denied
  { text: /Invalid credentials for relay/i, result: 'RELAY_DENIED', retryable: false },
  { text: /relay(ing)? (access )?denied|not permitted to relay|relay not permitted/i, result: 'RELAY_DENIED', retryable: false },
  // gmail-550-545-daily-sending-quota-legacy, relay-550-571-daily-relay-limit-customer: a daily
  // quota; the same request fails until it resets, so it is not retryable (failover moves on).
  { text: /Daily (user )?sending (quota|limit) exceeded|Daily SMTP relay limit exceeded|sending limit exceeded/i, result: 'QUOTA_EXCEEDED', retryable: false },
  { enhanced: '5.4.5', result: 'QUOTA_EXCEEDED', retryable: false },
  // doc-450-421-peak-relay-limit; Google's "450 4.2.1 ... receiving mail too quickly".
  { text: /Peak SMTP relay limit|receiving mail (too quickly|at a rate)/i, result: 'RATE_LIMITED', retryable: true },
  { code: 450, enhanced: '4.2.1', result: 'RATE_LIMITED', retryable: true },
  // doc-452-453-too-many-recipients: a limit on the message; the same message fails again.
  { enhanced: '4.5.3', result: 'POLICY_REJECTED', retryable: false },
  { text: /too many recipients/i, result: 'POLICY_REJECTED', retryable: false },
  // mx-550-5726-sender-unauthenticated-2023 and Gmail's "does not pass authentication checks":
  // the sender's DNS must change, so even the 4xx variants are not worth retrying unchanged.
  { enhanced: '5.7.26', result: 'POLICY_REJECTED', retryable: false },
  { text: /\b(SPF|DKIM|DMARC)\b|sender is unauthenticated|authentication checks/i, result: 'POLICY_REJECTED', retryable: false },
  // Content checks (gmail-552-570-blocked-security-issue; Gmail's "421 4.7.0 ... suspicious due to
  // the nature of the content"): the message itself, whatever the reply class.
  { text: /security issue|nature of the content|likely unsolicited mail|\bspam content\b|virus|BlockedMessage/i, result: 'MESSAGE_REJECTED', retryable: false },
  // 421-4.7.28 "unusual rate of unsolicited mail ... temporarily rate limited": slowing down helps.
  { replyClass: 4, text: /unusual rate of unsolicited mail|rate limited/i, result: 'RATE_LIMITED', retryable: true },
  // mx-550-571-unsolicited-rate-from-ip: the sending IP is blocked, not the message.
  { replyClass: 5, text: /unusual rate of unsolicited mail/i, result: 'POLICY_REJECTED', retryable: false },
  {
    text: /IP (address )?(is )?(blocked|blacklisted|listed)|IP not in whitelist|low reputation|violates .* policy|\bgcdp\b/i,
    result: 'POLICY_REJECTED',
    retryable: false,
  },
  // gmail-421-470-temporary-system-problem-data
  { text: /Temporary System Problem/i, result: 'TEMPORARY_FAILURE', retryable: true },
  // relay-421-470-try-again-later-ehlo: Google throttling the session (documented as a DoS
  // guard at HELO for the relay); the other 421 4.7.0 wordings are matched above.
  { code: 421, enhanced: '4.7.0', result: 'RATE_LIMITED', retryable: true },
  { replyClass: 4, text: /rate limit|too many (messages|connections)/i, result: 'RATE_LIMITED', retryable: true },
  // 552 5.2.2 is the recipient's mailbox over its storage quota (RFC 3463 X.2.2).
  { enhanced: '5.2.2', result: 'RECIPIENT_REJECTED', retryable: false },
  // gmail-552-523-size-limit-2015, gmail-552-523-size-limit-mailfrom: size (5.2.3 message too
  // big for the mailbox policy, 5.3.4 too big for the system).
  { enhanced: '5.2.3', result: 'MESSAGE_REJECTED', retryable: false },
  { enhanced: '5.3.4', result: 'MESSAGE_REJECTED', retryable: false },
  { code: 552, result: 'MESSAGE_REJECTED', retryable: false },
  // doc-553-512-recipient-domain-not-found; 550 5.1.1 no such user; 5.2.1 mailbox disabled.
  { enhanced: '5.1.1', result: 'RECIPIENT_REJECTED', retryable: false },
  { enhanced: '5.1.2', result: 'RECIPIENT_REJECTED', retryable: false },
  { enhanced: '5.1.3', result: 'RECIPIENT_REJECTED', retryable: false },
  { enhanced: '5.1.10', result: 'RECIPIENT_REJECTED', retryable: false },
  { enhanced: '5.2.1', result: 'RECIPIENT_REJECTED', retryable: false },
  { code: [550, 551, 553], phases: ['rcpt'], result: 'RECIPIENT_REJECTED', retryable: false },
  // gmail-555-552-syntax-error-empty-rcpt, xoauth2-501-552-cannot-decode, doc-501-554-helo-argument-invalid.
  { code: [500, 501, 502, 503, 504, 555], result: 'SYNTAX_ERROR', retryable: false },
  { enhanced: '5.5.', result: 'SYNTAX_ERROR', retryable: false },
];

/** What an SMTP reply means, before strategy-specific adjustments. */
export interface SmtpClassification {
  code: ErrorCode;
  retryable: boolean;
  /** A more specific hint for the code, where the reply calls for one. */
  variant?: string;
}

/** Parses the enhanced status code (RFC 3463) that follows the reply code, e.g. `5.7.8`. */
export function parseEnhancedCode(response: string): string | undefined {
  const match = /^\d{3}[ -]([245]\.\d{1,3}\.\d{1,3})\b/.exec(response.trimStart());
  return match?.[1];
}

/** Reads the reply code from the start of a server reply. */
export function parseReplyCode(response: string): number | undefined {
  const match = /^([2-5]\d\d)\b/.exec(response.trimStart());
  return match ? Number(match[1]) : undefined;
}

/**
 * The text of a (possibly multi-line) reply without its `NNN-x.y.z ` line prefixes, as one
 * line: Google breaks its sentences across lines ("Please log\n534-5.7.14 in via your web
 * browser"), so wordings are matched on this form.
 */
export function replyText(response: string): string {
  return response
    .split(/\r?\n/)
    .map((line) => line.replace(/^\d{3}[ -]?(\d\.\d{1,3}\.\d{1,3}\b)?/, '').trim())
    .filter(Boolean)
    .join(' ');
}

/**
 * Whether a `334` reply during AUTH is Google's XOAUTH2 error challenge: base64 of a JSON
 * object with `status` (e.g. `{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}`),
 * sent instead of 235 when the token is refused. The client answers with an empty line and the
 * 535 follows (https://developers.google.com/workspace/gmail/imap/xoauth2-protocol).
 */
export function isXoauth2Challenge(response: string): boolean {
  const match = /^334 ([A-Za-z0-9+/=]+)\s*$/.exec(response.trim());
  if (!match?.[1]) return false;
  try {
    const decoded = JSON.parse(Buffer.from(match[1], 'base64').toString('utf8')) as unknown;
    return typeof decoded === 'object' && decoded !== null && 'status' in decoded;
  } catch {
    return false;
  }
}

/**
 * Classifies an SMTP reply. Pure and table-driven; the table is tested row by row against
 * recorded Google replies. Default: other 4xx are temporary and retryable, other 5xx permanent.
 */
export function classifySmtpReply(responseCode: number, response: string, phase?: ErrorPhase): SmtpClassification {
  if (responseCode === 334 && isXoauth2Challenge(response)) {
    // The token was refused; nodemailer refreshes once and tries again before giving up.
    return { code: 'OAUTH_TOKEN_REJECTED', retryable: false };
  }
  const enhanced = parseEnhancedCode(response);
  const text = replyText(response);
  for (const rule of RULES) {
    if (rule.code !== undefined && !(typeof rule.code === 'number' ? [rule.code] : rule.code).includes(responseCode)) continue;
    if (rule.replyClass !== undefined && Math.floor(responseCode / 100) !== rule.replyClass) continue;
    if (rule.enhanced !== undefined) {
      if (!enhanced) continue;
      if (rule.enhanced.endsWith('.') ? !enhanced.startsWith(rule.enhanced) : enhanced !== rule.enhanced) continue;
    }
    if (rule.text && !rule.text.test(text)) continue;
    if (rule.phases && (!phase || !rule.phases.includes(phase))) continue;
    return { code: rule.result, retryable: rule.retryable, ...(rule.variant ? { variant: rule.variant } : {}) };
  }
  if (responseCode >= 400 && responseCode < 500) return { code: 'TEMPORARY_FAILURE', retryable: true };
  if (responseCode >= 500) return { code: 'PERMANENT_FAILURE', retryable: false };
  return { code: 'UNKNOWN', retryable: false };
}
