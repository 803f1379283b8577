import type { ErrorCode, ErrorPhase } from '../errors.js';

/** One row of the SMTP reply table: what to match, and what it means to a sender. */
interface SmtpRule {
  /** Reply code, or a list of codes. */
  code?: number | readonly number[];
  /** Enhanced status code, exact (`5.7.8`) or by class and subject (`5.7.`). */
  enhanced?: string;
  /** Google's wording; the `?p=` help token is the most stable key across rewordings. */
  text?: RegExp;
  /** Phases the row applies to; any phase when absent. */
  phases?: readonly ErrorPhase[];
  result: ErrorCode;
  retryable: boolean;
}

/**
 * Reply code + enhanced code alone are not enough with Google: `421 4.7.0`, `530 5.7.0`,
 * `534 5.7.9` and `550 5.7.1` each carry several meanings, told apart by the text (see
 * ../shared/fixtures/README.md). Rows are tried in order; the first match wins, so the
 * specific wordings come before the generic code rows. Each comment names the fixture
 * (test/fixtures/google-replies.json id) the row is tested against.
 */
const RULES: readonly SmtpRule[] = [
  // gmail-534-579-app-password-required: account has 2-step verification, a password was sent.
  { text: /InvalidSecondFactor|Application-specific password required/i, result: 'AUTH_APP_PASSWORD_REQUIRED', retryable: false },
  // gmail-534-5714-signin-continue: Google wants an interactive sign-in first.
  { text: /WebLoginRequired|accounts\.google\.com\/signin\/continue|log in via your web browser/i, result: 'AUTH_WEB_LOGIN_REQUIRED', retryable: false },
  { code: 534, enhanced: '5.7.14', result: 'AUTH_WEB_LOGIN_REQUIRED', retryable: false },
  // gmail-535-578-badcredentials-*, gmail-535-571-badcredentials-legacy-xoauth2. The same text
  // answers a wrong app password, a plain account password and a rejected XOAUTH2 token; the
  // strategy decides what to tell the user (see map-error.ts).
  { code: 535, result: 'AUTH_INVALID_CREDENTIALS', retryable: false },
  { text: /BadCredentials|Username and Password not accepted/i, phases: ['auth'], result: 'AUTH_INVALID_CREDENTIALS', retryable: false },
  // gmail-454-470-too-many-login-attempts
  { code: 454, text: /too many login attempts/i, result: 'RATE_LIMITED', retryable: true },
  // gmail-454-470-auth-temporary-problem
  { code: 454, result: 'TEMPORARY_FAILURE', retryable: true },
  // gmail-530-570-starttls-first-auth, gmail-530-570-starttls-first-mail; "421 TLS required".
  { text: /Must issue a STARTTLS command first|TLS required|requires? (a )?secure connection/i, result: 'TLS_REQUIRED', retryable: false },
  // gmail-530-570-authentication-required(-2025): the server wants AUTH (or, on the relay, a
  // registered IP) before it relays.
  { code: 530, text: /Authentication Required|WantAuthError/i, result: 'RELAY_DENIED', retryable: false },
  // relay-550-571-invalid-credentials-for-relay
  { text: /Invalid credentials for relay/i, result: 'RELAY_DENIED', retryable: false },
  // doc-550-570-mail-relay-denied
  { text: /relay(ing)? (access )?denied|not permitted to relay|relay not permitted/i, result: 'RELAY_DENIED', retryable: false },
  // gmail-550-545-daily-sending-quota-legacy, relay-550-571-daily-relay-limit-customer.
  { text: /Daily (user )?sending (quota|limit) exceeded|Daily SMTP relay limit exceeded|sending limit exceeded/i, result: 'QUOTA_EXCEEDED', retryable: false },
  { enhanced: '5.4.5', result: 'QUOTA_EXCEEDED', retryable: false },
  // doc-450-421-peak-relay-limit
  { code: 450, enhanced: '4.2.1', result: 'RATE_LIMITED', retryable: true },
  { text: /Peak SMTP relay limit/i, result: 'RATE_LIMITED', retryable: true },
  // doc-452-453-too-many-recipients: a policy on the message, the same message fails again.
  { enhanced: '4.5.3', result: 'POLICY_REJECTED', retryable: false },
  { text: /too many recipients/i, result: 'POLICY_REJECTED', retryable: false },
  // mx-550-5726-sender-unauthenticated-2023 and Gmail's "421-4.7.0 ... authentication checks".
  { enhanced: '5.7.26', result: 'POLICY_REJECTED', retryable: false },
  { text: /\b(SPF|DKIM|DMARC)\b|sender is unauthenticated|does not pass authentication checks/i, result: 'POLICY_REJECTED', retryable: false },
  // mx-550-571-unsolicited-rate-from-ip: the sending IP's reputation, not the message.
  { text: /unusual rate of\s+unsolicited mail|IP (address )?(is )?(blocked|blacklisted|listed)|poor reputation/i, result: 'POLICY_REJECTED', retryable: false },
  // gmail-421-470-temporary-system-problem-data
  { code: 421, text: /Temporary System Problem/i, result: 'TEMPORARY_FAILURE', retryable: true },
  // relay-421-470-try-again-later-ehlo: Google throttling the connection.
  { code: 421, enhanced: '4.7.0', result: 'RATE_LIMITED', retryable: true },
  { code: [421, 450, 451, 452], text: /rate limit|too many (messages|connections)|receiving mail at a rate|try again later/i, result: 'RATE_LIMITED', retryable: true },
  // gmail-552-523-size-limit-*: size (5.2.3 message, 5.3.4 message too big for system).
  { enhanced: '5.2.3', result: 'MESSAGE_REJECTED', retryable: false },
  { enhanced: '5.3.4', result: 'MESSAGE_REJECTED', retryable: false },
  { code: 552, result: 'MESSAGE_REJECTED', retryable: false },
  // gmail-552-570-blocked-security-issue; spam-content rejections.
  { text: /security issue|likely unsolicited|spam|virus|message content/i, result: 'MESSAGE_REJECTED', retryable: false },
  // doc-553-512-recipient-domain-not-found, 550 5.1.1 (no such user).
  { enhanced: '5.1.1', result: 'RECIPIENT_REJECTED', retryable: false },
  { enhanced: '5.1.2', result: 'RECIPIENT_REJECTED', retryable: false },
  { enhanced: '5.1.10', result: 'RECIPIENT_REJECTED', retryable: false },
  { code: [550, 551, 553], phases: ['rcpt'], result: 'RECIPIENT_REJECTED', retryable: false },
  // gmail-555-552-syntax-error-empty-rcpt, xoauth2-501-552-cannot-decode, doc-501-554-helo-argument-invalid.
  { code: [500, 501, 502, 503, 504, 555], result: 'SYNTAX_ERROR', retryable: false },
  { enhanced: '5.5.', result: 'SYNTAX_ERROR', retryable: false },
];

/** What an SMTP reply means, before strategy-specific adjustments. */
export interface SmtpClassification {
  code: ErrorCode;
  retryable: boolean;
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
 * Classifies an SMTP reply. Pure and table-driven; the table is tested row by row against
 * recorded Google replies. Default: other 4xx are temporary and retryable, other 5xx permanent.
 */
export function classifySmtpReply(responseCode: number, response: string, phase?: ErrorPhase): SmtpClassification {
  const enhanced = parseEnhancedCode(response);
  for (const rule of RULES) {
    if (rule.code !== undefined) {
      const codes = typeof rule.code === 'number' ? [rule.code] : rule.code;
      if (!codes.includes(responseCode)) continue;
    }
    if (rule.enhanced !== undefined) {
      if (!enhanced) continue;
      if (rule.enhanced.endsWith('.') ? !enhanced.startsWith(rule.enhanced) : enhanced !== rule.enhanced) continue;
    }
    if (rule.text && !rule.text.test(response)) continue;
    if (rule.phases && (!phase || !rule.phases.includes(phase))) continue;
    return { code: rule.result, retryable: rule.retryable };
  }
  if (responseCode >= 400 && responseCode < 500) return { code: 'TEMPORARY_FAILURE', retryable: true };
  if (responseCode >= 500) return { code: 'PERMANENT_FAILURE', retryable: false };
  return { code: 'UNKNOWN', retryable: false };
}
