import { createHash } from 'node:crypto';
import type { GmailTransportError } from '../errors/error.js';
import { errorFor } from '../errors/map-error.js';
import { ERROR_MEANINGS } from '../errors/catalog.js';
import type { Locale } from '../errors/hints.js';
import type { TransportEvents } from '../core/events.js';
import type { OutgoingMail } from '../core/route.js';
import { envelopeOf } from '../core/envelope.js';
import type { Ledger, Usage, Verdict } from './ledger.js';
import { LOW_SHARE } from './limits.js';
import type { BudgetLimits, BudgetStatus, BudgetSubject } from '../core/budget.js';
import { dailyLimitRefusal } from './google-refusal.js';

/** Bumped when the stored form of a budget changes, so old and new versions never mix counts. */
const KEY_VERSION = 'v1';

/**
 * The store key of a budget: `gmail-transport:v1:budget:{<hash>}`. The hash keeps addresses
 * out of the store's key space (as token keys do) and, in braces, is a Redis Cluster hash tag:
 * the keys a reservation script touches live on one node.
 */
export function budgetKey(scope: BudgetSubject['kind'], identity: string): string {
  const digest = createHash('sha256').update(`${scope}\n${identity.toLowerCase()}`, 'utf8').digest('hex');
  return `gmail-transport:${KEY_VERSION}:budget:{${digest}}`;
}

/** A message let through: what to give back or keep once its fate is known. */
export interface Admitted {
  readonly key: string;
  readonly handle: unknown;
}

/** What the budget needs from the transport it belongs to. */
export interface BudgetContext {
  readonly strategy: string;
  readonly locale: Locale;
  readonly emit: (event: 'warning', payload: TransportEvents['warning']) => void;
  /** The transport's clock: the window rolls on it. */
  readonly now: () => number;
}

/**
 * One route's sending budget: which mailbox a message counts against, whether it fits, and what
 * its outcome does to the count. A message is counted before it goes to the network and given
 * back only when it provably never reached the server; Google's own refusal for the daily limit
 * marks the mailbox spent in the ledger, for every process that shares it.
 */
export class Budget {
  readonly limits: BudgetLimits;
  readonly #subject: BudgetSubject;
  readonly #ledger: Ledger;
  readonly #ctx: BudgetContext;
  /** Mailboxes this budget counted for, in this process (the senders of a relay route). */
  readonly #seen = new Map<string, string>();

  constructor(subject: BudgetSubject, limits: BudgetLimits, ledger: Ledger, ctx: BudgetContext) {
    this.#subject = subject;
    this.limits = limits;
    this.#ledger = ledger;
    this.#ctx = ctx;
    if (subject.kind !== 'relay-sender') this.#keyOf(subject.kind === 'mailbox' ? subject.user : subject.account);
  }

  /**
   * Decides on a message before any network: an error when it cannot go now (too many
   * recipients, budget used up), else the ledger's reservation. Synchronous with the memory
   * ledger.
   */
  admit(mail: OutgoingMail): GmailTransportError | Admitted | Promise<GmailTransportError | Admitted> {
    const envelope = addressesOf(mail);
    const mailbox = this.#subject.kind === 'mailbox' ? this.#subject.user : this.#subject.kind === 'relay' ? this.#subject.account : envelope.from;
    const max = this.limits.recipientsPerMessage;
    if (max !== undefined && envelope.to > max) return this.#tooManyRecipients(mail, envelope.to, max);
    if (this.limits.messagesPerDay === undefined && this.limits.recipientsPerDay === undefined) return { key: '', handle: undefined };
    const key = this.#keyOf(mailbox);
    const verdict = this.#ledger.reserve(key, envelope.to, this.limits, this.#ctx.now());
    return verdict instanceof Promise
      ? verdict.then((v) => this.#judge(v, key, mailbox, envelope.to, mail))
      : this.#judge(verdict, key, mailbox, envelope.to, mail);
  }

  /**
   * Settles a reservation once the attempt is over: kept when the message was accepted or may
   * have been (DELIVERY_UNCERTAIN, or a failure we cannot place), given back otherwise. Google's
   * refusal for its daily limit also marks the mailbox spent.
   */
  settle(admitted: Admitted, err: GmailTransportError | null): void | Promise<void> {
    if (!err || admitted.key === '') return;
    const refusal = dailyLimitRefusal(err);
    const work: Array<void | Promise<void>> = [];
    if (refusal) {
      const now = this.#ctx.now();
      work.push(this.#ledger.markSpent(admitted.key, now + refusal.forMs, now));
    }
    if (err.code !== 'DELIVERY_UNCERTAIN' && err.code !== 'UNKNOWN') work.push(this.#ledger.release(admitted.key, admitted.handle));
    const pending = work.filter((w): w is Promise<void> => w instanceof Promise);
    if (pending.length > 0) return Promise.all(pending).then(() => undefined);
  }

  /** Used and left of each mailbox this budget counts for. */
  async status(strategy: string): Promise<BudgetStatus[]> {
    const now = this.#ctx.now();
    const entries = [...this.#seen];
    return Promise.all(
      entries.map(async ([mailbox, key]) => {
        const usage = await this.#ledger.usage(key, now);
        const count = (used: number, limit: number | undefined) => ({
          used,
          ...(limit !== undefined ? { limit, left: usage.spentUntil > 0 ? 0 : Math.max(0, limit - used) } : {}),
        });
        return {
          mailbox,
          strategy,
          messages: count(usage.messages, this.limits.messagesPerDay),
          recipients: count(usage.recipients, this.limits.recipientsPerDay),
          ...(this.limits.recipientsPerMessage !== undefined ? { recipientsPerMessage: this.limits.recipientsPerMessage } : {}),
          ...(usage.spentUntil > 0 ? { spentUntil: usage.spentUntil } : {}),
          store: this.#ledger.kind,
        } satisfies BudgetStatus;
      }),
    );
  }

  #keyOf(mailbox: string): string {
    let key = this.#seen.get(mailbox);
    if (key === undefined) {
      key = budgetKey(this.#subject.kind, mailbox);
      this.#seen.set(mailbox, key);
    }
    return key;
  }

  #judge(verdict: Verdict, key: string, mailbox: string, recipients: number, mail: OutgoingMail): GmailTransportError | Admitted {
    if (!verdict.ok) return this.#spent(verdict.usage, verdict.waitMs, mailbox, mail);
    if (crossed(verdict.usage.messages, 1, this.limits.messagesPerDay) || crossed(verdict.usage.recipients, recipients, this.limits.recipientsPerDay)) {
      this.#ctx.emit('warning', {
        code: 'BUDGET_LOW',
        message: `${Math.round(LOW_SHARE * 100)}% of the sending budget of ${mailbox} is used: ${describe(verdict.usage, this.limits)} in the last 24 hours`,
        strategy: this.#ctx.strategy,
      });
    }
    return { key, handle: verdict.handle };
  }

  #spent(usage: Usage, waitMs: number, mailbox: string, mail: OutgoingMail): GmailTransportError {
    const why =
      usage.spentUntil > 0
        ? `Google refused the mail of ${mailbox} for its daily sending limit; nothing is sent as it until ${new Date(usage.spentUntil).toISOString()}`
        : `the sending budget of ${mailbox} is used up (${describe(usage, this.limits)} in the last 24 hours); the next message fits in ${formatWait(waitMs)}`;
    const messageId = safeMessageId(mail);
    return errorFor('QUOTA_EXCEEDED', {
      message: `${ERROR_MEANINGS.QUOTA_EXCEEDED}: ${why}`,
      retryable: true,
      strategy: this.#ctx.strategy,
      phase: 'budget',
      locale: this.#ctx.locale,
      variant: 'budget',
      retryAfterMs: Math.ceil(waitMs),
      ...(messageId ? { messageId } : {}),
    });
  }

  #tooManyRecipients(mail: OutgoingMail, recipients: number, max: number): GmailTransportError {
    const messageId = safeMessageId(mail);
    // A problem of the message itself, as the first-contact checks report them.
    return errorFor('MESSAGE_INVALID', {
      message: `${ERROR_MEANINGS.MESSAGE_INVALID}: has ${recipients} recipients, more than the ${max} one message may have (budget.recipientsPerMessage; send it as several messages)`,
      strategy: this.#ctx.strategy,
      phase: 'message',
      locale: this.#ctx.locale,
      ...(messageId ? { messageId } : {}),
    });
  }
}

/** Whether adding `added` brought `used` to the low-budget share of `limit` just now. */
function crossed(used: number, added: number, limit: number | undefined): boolean {
  if (limit === undefined || added === 0) return false;
  const threshold = Math.ceil(limit * LOW_SHARE);
  return used >= threshold && used - added < threshold;
}

function describe(usage: Usage, limits: BudgetLimits): string {
  const parts: string[] = [];
  if (limits.messagesPerDay !== undefined) parts.push(`${usage.messages} of ${limits.messagesPerDay} messages`);
  if (limits.recipientsPerDay !== undefined) parts.push(`${usage.recipients} of ${limits.recipientsPerDay} recipients`);
  return parts.join(', ');
}

/** `3 h 12 min`, `42 s`: how long until the next message fits, for people. */
function formatWait(ms: number): string {
  const s = Math.ceil(ms / 1000);
  if (s < 60) return `${s} s`;
  const min = Math.ceil(s / 60);
  return min < 60 ? `${min} min` : `${Math.floor(min / 60)} h ${min % 60} min`;
}

/** The envelope sender and the number of recipients. */
function addressesOf(mail: OutgoingMail): { from: string; to: number } {
  try {
    const envelope = envelopeOf(mail.message);
    return { from: typeof envelope.from === 'string' ? envelope.from : '', to: envelope.to.length };
  } catch {
    // The route reports the broken envelope itself; counted as nobody's.
    return { from: '', to: 0 };
  }
}

function safeMessageId(mail: OutgoingMail): string | undefined {
  try {
    return mail.message.messageId();
  } catch {
    return undefined;
  }
}
