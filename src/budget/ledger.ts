import type { BudgetLimits } from '../core/budget.js';
import { WINDOW_MS } from './limits.js';

/** What a budget has used in the window, as one read of the ledger saw it. */
export interface Usage {
  messages: number;
  recipients: number;
  /** Epoch ms until which the mailbox counts as spent (Google's own refusal); 0 when not. */
  spentUntil: number;
}

/** A ledger's answer to a reservation. */
export type Verdict =
  /** Counted: `usage` includes this message; `handle` gives it back. */
  | { readonly ok: true; readonly usage: Usage; readonly handle: unknown }
  /** Refused: nothing was counted; the message fits again after `waitMs`. */
  | { readonly ok: false; readonly usage: Usage; readonly waitMs: number };

/**
 * Where a budget's count lives. A reservation is decided and counted in one step (atomic for
 * the Redis ledger), so that processes sharing a ledger never both take the last message.
 */
export interface Ledger {
  readonly kind: 'memory' | 'keyv' | 'redis';
  /** Counts one message of `recipients` at `now` if it fits within `limits`. */
  reserve(key: string, recipients: number, limits: BudgetLimits, now: number): Verdict | Promise<Verdict>;
  /** Gives back a reservation whose message provably did not reach the server. */
  release(key: string, handle: unknown): void | Promise<void>;
  /** Counts the mailbox as spent until `until` (Google refused it for its daily limit). */
  markSpent(key: string, until: number, now: number): void | Promise<void>;
  /** What is used at `now`. */
  usage(key: string, now: number): Usage | Promise<Usage>;
}

/** The counted messages of one key, oldest first: when each was counted and its recipients. */
export interface Entries {
  times: number[];
  recipients: number[];
  spentUntil: number;
  /** The sum of `recipients`, kept by whoever changes them; computed when absent. */
  total?: number;
}

/**
 * The decision every ledger makes, over its entries: whether one more message of `recipients`
 * fits, and else how long until it does (until the oldest counted messages that stand in the
 * way leave the window, or a refusal from Google ends).
 */
export function decide(entries: Entries, recipients: number, limits: BudgetLimits, now: number): { waitMs: number; usage: Usage } {
  const cutoff = now - WINDOW_MS;
  if (entries.total === undefined) entries.total = entries.recipients.reduce((sum, r) => sum + r, 0);
  let expired = 0;
  while (expired < entries.times.length && entries.times[expired]! <= cutoff) entries.total -= entries.recipients[expired++]!;
  if (expired > 0) {
    entries.times.splice(0, expired);
    entries.recipients.splice(0, expired);
  }
  const count = entries.times.length;
  const total = entries.total;
  const usage: Usage = { messages: count, recipients: total, spentUntil: entries.spentUntil > now ? entries.spentUntil : 0 };
  let waitMs = usage.spentUntil > 0 ? usage.spentUntil - now : 0;
  const { messagesPerDay: maxMessages, recipientsPerDay: maxRecipients } = limits;
  if (maxMessages !== undefined && count + 1 > maxMessages) {
    // The (count + 1 - max)th oldest message has to leave before one more fits.
    const leaving = entries.times[count - maxMessages];
    waitMs = Math.max(waitMs, leaving === undefined ? WINDOW_MS : leaving + WINDOW_MS - now);
  }
  if (maxRecipients !== undefined && total + recipients > maxRecipients) {
    let wait = WINDOW_MS;
    if (recipients <= maxRecipients) {
      const excess = total + recipients - maxRecipients;
      let freed = 0;
      for (let i = 0; i < count; i++) {
        freed += entries.recipients[i]!;
        if (freed >= excess) {
          wait = entries.times[i]! + WINDOW_MS - now;
          break;
        }
      }
    }
    waitMs = Math.max(waitMs, wait);
  }
  return { waitMs, usage };
}

/**
 * The default ledger: this process's memory, one count per key, shared by every transport of
 * the process that sends as the same mailbox. Synchronous, so a send that fits pays no extra
 * turn of the event loop.
 */
export class MemoryLedger implements Ledger {
  readonly kind = 'memory';
  readonly #entries = new Map<string, Entries>();

  reserve(key: string, recipients: number, limits: BudgetLimits, now: number): Verdict {
    const entries = this.#of(key);
    const { waitMs, usage } = decide(entries, recipients, limits, now);
    if (waitMs > 0) return { ok: false, usage, waitMs };
    const handle = addEntry(entries, now, recipients);
    return { ok: true, usage: { ...usage, messages: usage.messages + 1, recipients: usage.recipients + recipients }, handle };
  }

  release(key: string, handle: unknown): void {
    const entries = this.#entries.get(key);
    if (entries) removeEntry(entries, handle);
  }

  markSpent(key: string, until: number): void {
    const entries = this.#of(key);
    entries.spentUntil = Math.max(entries.spentUntil, until);
  }

  usage(key: string, now: number): Usage {
    return decide(this.#of(key), 0, {}, now).usage;
  }

  #of(key: string): Entries {
    let entries = this.#entries.get(key);
    if (!entries) {
      entries = { times: [], recipients: [], spentUntil: 0 };
      this.#entries.set(key, entries);
    }
    return entries;
  }
}

/** Counts one message in `entries`; returns its handle. */
export function addEntry(entries: Entries, time: number, recipients: number): { time: number; recipients: number } {
  entries.times.push(time);
  entries.recipients.push(recipients);
  entries.total = (entries.total ?? 0) + recipients;
  return { time, recipients };
}

/**
 * Takes back one counted message. Entries of equal time and recipients are interchangeable:
 * giving back any one of them leaves the same count. The newest are at the end, where a
 * reservation being given back usually is.
 */
export function removeEntry(entries: Entries, handle: unknown): void {
  const { time, recipients } = handle as { time: number; recipients: number };
  for (let i = entries.times.length - 1; i >= 0; i--) {
    if (entries.times[i] === time && entries.recipients[i] === recipients) {
      entries.times.splice(i, 1);
      entries.recipients.splice(i, 1);
      if (entries.total !== undefined) entries.total -= recipients;
      return;
    }
  }
}

/** The process's memory ledger. */
export const memoryLedger = new MemoryLedger();
