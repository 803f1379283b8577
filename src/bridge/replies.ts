import type { ErrorCode, GmailTransportError } from '../errors/error.js';

/**
 * An SMTP reply the bridge sends a device. The enhanced status code (RFC 3463) is written into
 * the text by us: smtp-server's automatic ones map a reply code to one fixed enhanced code
 * (every 451 becomes 4.3.0), and a device deserves to see 4.4.1 for "upstream unreachable".
 */
export interface SmtpReply {
  code: number;
  enhanced: string;
  text: string;
}

/** `451 4.4.1`: the part of a reply the log line keeps. */
export function replyLabel(reply: SmtpReply): string {
  return `${reply.code} ${reply.enhanced}`;
}

/** The error form smtp-server's callbacks take: `responseCode` becomes the reply code. */
export function replyError(reply: SmtpReply): Error & { responseCode: number } {
  return Object.assign(new Error(`${reply.enhanced} ${reply.text}`), { responseCode: reply.code });
}

/** Refusals the bridge decides itself. */
export const LOCAL_REPLIES = {
  // RFC 4954 section 6: 535 5.7.8 for bad credentials. The same reply for an unknown user and a
  // wrong password, so the reply does not tell which user names exist.
  authFailed: { code: 535, enhanced: '5.7.8', text: 'Authentication credentials invalid' },
  // RFC 5321 section 3.8: 421 closes the connection; RFC 3463 X.7.0, a security condition. A
  // temporary code, because the lockout ends.
  lockedOut: { code: 421, enhanced: '4.7.0', text: 'Too many failed logins from your address, locked out; try again later' },
  // RFC 4954 section 6: 530 5.7.0 when a command needs AUTH first. Unauthenticated clients from
  // outside allowNetworks get it at MAIL FROM: the bridge is never an open relay.
  authRequired: { code: 530, enhanced: '5.7.0', text: 'Authentication required' },
  // RFC 3207 section 4: 530 when the client must STARTTLS before it may go on (AUTH is hidden
  // until then).
  tlsRequired: { code: 530, enhanced: '5.7.0', text: 'Must issue a STARTTLS command first, then log in' },
  // RFC 5321 section 4.2.3, 553 "mailbox name not allowed"; RFC 3463 X.7.1, "delivery not
  // authorized, message refused".
  senderNotAllowed: { code: 553, enhanced: '5.7.1', text: 'Sender address not allowed for this account' },
  // RFC 5321 section 4.5.3.1.10: 452 for too many recipients, the client sends the rest in another
  // transaction; RFC 3463 X.5.3.
  tooManyRecipients: { code: 452, enhanced: '4.5.3', text: 'Too many recipients' },
  // RFC 3463 X.3.2, "system not accepting network messages".
  shuttingDown: { code: 421, enhanced: '4.3.2', text: 'Bridge shutting down, try again later' },
  // The slots of connections (slots.ts): 421 closes the connection (RFC 5321 section 3.8), and the
  // device may come back later; X.7.0 as for the lockout, a security condition.
  tooManyConnections: { code: 421, enhanced: '4.7.0', text: 'Too many connections from your address, try again later' },
  loginTimeout: { code: 421, enhanced: '4.7.0', text: 'No login in time, closing connection' },
  tooManyCommands: { code: 421, enhanced: '4.7.0', text: 'Too many commands before login, closing connection' },
  // RFC 5321 section 4.2.3 451 "local error in processing": the message could not be kept
  // while the upstream is asked (a full or unwritable spool directory); the device retries.
  spoolFailed: { code: 451, enhanced: '4.3.0', text: 'Bridge cannot hold the message right now, try again later' },
} satisfies Record<string, SmtpReply>;

/**
 * RFC 5321 section 4.3.2 allows 550 after the final dot; RFC 3463 X.7.1, "delivery not
 * authorized, message refused". Names the header so the device's operator knows what to fix.
 */
export function headerNotAllowedReply(header: 'From' | 'Sender'): SmtpReply {
  return { code: 550, enhanced: '5.7.1', text: `Header ${header} address not allowed for this account` };
}

/** RFC 5321 section 4.2.3 552 (and RFC 1870 section 6); RFC 3463 X.3.4, message too big for system. */
export function tooBigReply(limit: number): SmtpReply {
  return { code: 552, enhanced: '5.3.4', text: `Message too big (limit ${limit} bytes)` };
}

/** 250 2.0.0 once the upstream accepted the message, with the upstream's reply (a queue id) for the device's log. */
export function acceptedReply(upstreamResponse?: string): SmtpReply {
  const detail = upstreamResponse
    ? `: ${upstreamResponse
        .replace(/^\d{3}[ -]/, '')
        .replace(/\s+/g, ' ')
        .slice(0, 160)}`
    : '';
  return { code: 250, enhanced: '2.0.0', text: `Accepted by upstream${detail}` };
}

// Failures the bridge's operator must fix (upstream login, TLS trust, relay registration). They
// are answered 451, not 5xx: the device keeps the message and retries, and it is delivered once
// the configuration is fixed, instead of being dropped because of the bridge's own setup.
const OPERATOR_SIDE = new Set<ErrorCode>([
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
  'UNKNOWN',
]);

// 451 for everything the same message may survive later (RFC 5321 section 4.2.3: "local error in
// processing"); the enhanced code says which kind (RFC 3463).
const DEFERRED: Partial<Record<ErrorCode, SmtpReply>> = {
  RATE_LIMITED: { code: 451, enhanced: '4.4.5', text: 'Upstream rate limit, try again later' }, // X.4.5 congestion
  CONNECTION_FAILED: { code: 451, enhanced: '4.4.1', text: 'Upstream not reachable, try again later' }, // X.4.1 no answer from host
  TEMPORARY_FAILURE: { code: 451, enhanced: '4.3.0', text: 'Upstream temporary failure, try again later' }, // X.3.0
  // The upstream may have taken the message before the connection broke. Retrying risks a
  // duplicate; a 250 would risk a silent loss. X.4.2: bad connection.
  DELIVERY_UNCERTAIN: { code: 451, enhanced: '4.4.2', text: 'Upstream connection lost after sending, delivery uncertain; try again' },
};

// The upstream's sending budget is used up for now (phase `budget`): nothing was sent, and the
// device keeps the message until it frees. X.4.5, as Google's own 5.4.5 for its daily limit.
const BUDGET_REPLY: SmtpReply = { code: 451, enhanced: '4.4.5', text: 'Upstream daily sending budget used up, try again later' };

const OPERATOR_REPLY: SmtpReply = { code: 451, enhanced: '4.7.0', text: 'Bridge cannot send upstream (check its configuration), try again later' };

// The permanent refusals and their defaults when the upstream gave no SMTP reply (Gmail API).
const REJECTED: Partial<Record<ErrorCode, SmtpReply>> = {
  RECIPIENT_REJECTED: { code: 550, enhanced: '5.1.1', text: 'Upstream refused a recipient' },
  // Gmail's own reply for a daily limit: 550 5.4.5 (fixture gmail-550-545-daily-sending-quota-legacy).
  QUOTA_EXCEEDED: { code: 550, enhanced: '5.4.5', text: 'Upstream daily sending limit exceeded' },
  MESSAGE_REJECTED: { code: 554, enhanced: '5.6.0', text: 'Upstream refused the message' },
  POLICY_REJECTED: { code: 550, enhanced: '5.7.1', text: 'Upstream refused the message by policy' },
  SYNTAX_ERROR: { code: 554, enhanced: '5.5.0', text: 'Upstream refused the message as malformed' },
  // Found before the upstream was asked: an address that does not parse, or more recipients
  // than the upstream takes. RFC 3463 X.1.3: bad destination mailbox address syntax.
  MESSAGE_INVALID: {
    code: 550,
    enhanced: '5.1.3',
    text: 'Message refused before sending upstream: an address does not parse, or there are too many recipients',
  },
  PERMANENT_FAILURE: { code: 554, enhanced: '5.0.0', text: 'Upstream refused the message' },
  // The bridge's own config was checked at start, so a CONFIG_INVALID now concerns this
  // message: the Gmail API delivers to the headers and refuses an envelope that differs (Bcc
  // recipients, another MAIL FROM). RFC 3463 X.3.3: features the destination cannot support.
  CONFIG_INVALID: { code: 554, enhanced: '5.3.3', text: 'Upstream cannot send this message as addressed (its envelope differs from its headers)' },
};

/** Reply codes RFC 5321 section 4.3.2 allows after the final dot of DATA. */
const DATA_END_FAILURES = new Set([550, 552, 554]);

/** What a device is told about a failed upstream send. */
export function replyForUpstreamError(err: GmailTransportError): { reply: SmtpReply; outcome: 'deferred' | 'rejected'; operatorSide?: true } {
  const deferred = DEFERRED[err.code];
  if (deferred) return { reply: deferred, outcome: 'deferred' };
  if (err.phase === 'budget') return { reply: BUDGET_REPLY, outcome: 'deferred' };
  if (OPERATOR_SIDE.has(err.code)) return { reply: OPERATOR_REPLY, outcome: 'deferred', operatorSide: true };
  if (err.retryable) return { reply: { code: 451, enhanced: '4.3.0', text: 'Upstream temporary failure, try again later' }, outcome: 'deferred' };
  const base = REJECTED[err.code] ?? { code: 554, enhanced: '5.0.0', text: 'Upstream refused the message' };
  // Keep the upstream's own codes where SMTP allows them here (a 552 5.3.4 stays a size error).
  const code = err.responseCode && DATA_END_FAILURES.has(err.responseCode) ? err.responseCode : err.responseCode === 553 ? 550 : base.code;
  const enhanced = err.enhancedCode?.startsWith('5.') ? err.enhancedCode : base.enhanced;
  return { reply: { code, enhanced, text: base.text }, outcome: 'rejected' };
}

/** Some recipients refused upstream, others accepted: never a plain 250 (a silent loss). */
export function replyForPartialDelivery(accepted: number, rejected: number, anyTemporary: boolean): { reply: SmtpReply; outcome: 'deferred' | 'rejected' } {
  const text = `Upstream refused ${rejected} of ${accepted + rejected} recipients; the others received the message`;
  // A temporary refusal: the device retries (the accepted recipients may get it twice).
  if (anyTemporary) return { reply: { code: 451, enhanced: '4.5.0', text }, outcome: 'deferred' };
  return { reply: { code: 550, enhanced: '5.1.1', text }, outcome: 'rejected' };
}
