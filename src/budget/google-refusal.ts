import type { GmailTransportError } from '../errors/error.js';
import { WINDOW_MS } from './limits.js';

// Google's wordings of a user's daily limit: "550-5.4.5 Daily user sending limit exceeded"
// (smtp.gmail.com, onepub-dev/onepub#543; "quota" in older replies, fixture
// gmail-550-545-daily-sending-quota-legacy) and "550 5.4.5 Daily SMTP relay limit exceeded for
// user" (smtp-relay.gmail.com, https://support.google.com/a/answer/6140680). The relay's
// limit "for customer" (550 5.7.1) is the whole domain's, not one sender's.
const DAILY_USER_LIMIT = /Daily user sending (quota|limit) exceeded|Daily SMTP relay limit exceeded for user/i;

/**
 * How long Google's refusal says this mailbox cannot send, when the error is Google refusing
 * the user's mail for its daily limit: `550 5.4.5` over SMTP; over the Gmail API, the 429
 * "User-rate limit exceeded. Retry after <time> (Mail sending)" of the user's sending limit,
 * or `dailyLimitExceeded` when its message names the user's sending limit (the same reason for
 * the Cloud project's API quota is no mailbox's limit). Google keeps a user who passed a limit
 * from sending for up to 24 hours (https://support.google.com/a/answer/166852): without a
 * time from Google, the mailbox counts as spent for a whole window.
 */
export function dailyLimitRefusal(err: GmailTransportError): { forMs: number } | undefined {
  if (err.code !== 'QUOTA_EXCEEDED' || err.phase === 'budget') return undefined;
  const text = err.response ?? '';
  const smtp = err.enhancedCode === '5.4.5' || (err.responseCode !== undefined && DAILY_USER_LIMIT.test(text));
  const api = (err.httpStatus === 429 && /\(Mail sending\)/i.test(text)) || (err.reason === 'dailyLimitExceeded' && /\buser\b.*\bsending\b/i.test(text));
  if (!smtp && !api) return undefined;
  return { forMs: err.retryAfterMs ?? WINDOW_MS };
}
