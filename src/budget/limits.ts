import type { BudgetLimits, BudgetOptions, BudgetSubject } from '../core/budget.js';

/** Google counts its daily limits over a rolling 24 hours, not per calendar day (support.google.com/a/answer/166852). */
export const WINDOW_MS = 24 * 60 * 60 * 1000;

/** A `BUDGET_LOW` warning once a reservation brings a budget to this share. */
export const LOW_SHARE = 0.8;

/**
 * Google's published limits, the defaults of a budget.
 *
 * - Google Workspace mailboxes: 2,000 messages a day, 10,000 recipients a day, 100 recipients
 *   per message sent over SMTP or the Gmail API ("Gmail sending limits in Google Workspace",
 *   https://support.google.com/a/answer/166852). Trial accounts get 500 messages a day; set
 *   `messagesPerDay: 500` for one.
 * - Personal Gmail accounts: 500 messages a day ("You have reached a limit for sending mail",
 *   https://support.google.com/mail/answer/22839). The recipient limits are Workspace's, the
 *   same 100 per message over SMTP.
 * - The Gmail API enforces the same per-user sending limits as SMTP: they are shared by all of
 *   the user's clients ("Usage limits" and "Resolve errors", Mail sending limits:
 *   https://developers.google.com/workspace/gmail/api/reference/quota,
 *   https://developers.google.com/workspace/gmail/api/guides/handle-errors).
 * - The SMTP relay (smtp-relay.gmail.com): 10,000 recipients per user (envelope sender) in 24
 *   hours, 100 recipients per SMTP transaction ("SMTP relay service sending limits",
 *   https://support.google.com/a/answer/2956491#sendinglimitsforrelay; error replies in
 *   https://support.google.com/a/answer/6140680). Google counts unique recipients there; a count
 *   of every recipient is never lower.
 */
export const GOOGLE_LIMITS = {
  workspaceMessagesPerDay: 2_000,
  personalMessagesPerDay: 500,
  recipientsPerDay: 10_000,
  recipientsPerMessage: 100,
  relayRecipientsPerDay: 10_000,
  relayRecipientsPerMessage: 100,
} as const;

const PERSONAL_DOMAINS = /@(gmail|googlemail)\.com$/i;

/** The defaults for a subject: Google's limits for Google's services, none for other relays. */
export function defaultLimits(subject: BudgetSubject): BudgetLimits {
  switch (subject.kind) {
    case 'mailbox':
      return {
        messagesPerDay: PERSONAL_DOMAINS.test(subject.user) ? GOOGLE_LIMITS.personalMessagesPerDay : GOOGLE_LIMITS.workspaceMessagesPerDay,
        recipientsPerDay: GOOGLE_LIMITS.recipientsPerDay,
        recipientsPerMessage: GOOGLE_LIMITS.recipientsPerMessage,
      };
    case 'relay-sender':
      return { recipientsPerDay: GOOGLE_LIMITS.relayRecipientsPerDay, recipientsPerMessage: GOOGLE_LIMITS.relayRecipientsPerMessage };
    case 'relay':
      return {};
  }
}

/** The user's limits over the defaults; `Infinity` turns a limit off. */
export function resolveLimits(subject: BudgetSubject, options: Omit<BudgetOptions, 'store'>): BudgetLimits {
  const defaults = defaultLimits(subject);
  const pick = (key: keyof BudgetLimits): number | undefined => {
    const value = options[key] ?? defaults[key];
    return value === undefined || value === Infinity ? undefined : value;
  };
  const limits = { messagesPerDay: pick('messagesPerDay'), recipientsPerDay: pick('recipientsPerDay'), recipientsPerMessage: pick('recipientsPerMessage') };
  return Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined)) as BudgetLimits;
}

/** Whether any limit is left to count against. */
export function hasLimits(limits: BudgetLimits): boolean {
  return limits.messagesPerDay !== undefined || limits.recipientsPerDay !== undefined || limits.recipientsPerMessage !== undefined;
}
