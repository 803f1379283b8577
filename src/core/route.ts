import type { MailMessage, SentMessageInfo } from 'nodemailer';
import type { GmailTransportError } from '../errors/error.js';
import type { BudgetStatus } from './budget.js';

/** The message nodemailer hands a transport: composed data plus its MIME tree. */
export type OutgoingMail = MailMessage<SentMessageInfo>;

/**
 * One way of delivering a message: an SMTP connection or pool, the Gmail API, or a failover
 * over several routes. Promise-based and throws only GmailTransportError; the transport adapts
 * it to nodemailer's callback contract.
 */
export interface Route {
  readonly strategy: string;
  /** The account the route logs in as (the mailbox), where it has one: for send-log records. */
  readonly user?: string | undefined;
  /** Delivers once. Retries are the caller's (see delivery/retry.ts). */
  send(mail: OutgoingMail): Promise<SentMessageInfo>;
  /**
   * `send` in nodemailer's callback style, for a route that has it natively (SMTP): the
   * transport makes each first attempt through it. A pool queues every message it is given,
   * and what a send allocates waits in the queue with it; the promises and the suspended
   * retry loop around a `send` made V8's garbage collector copy about 0.5 kB more per queued
   * message (docs/decisions/). Calls back once, with a GmailTransportError.
   */
  deliver?(mail: OutgoingMail, callback: (err: GmailTransportError | null, info?: SentMessageInfo) => void): void;
  /** Connects and authenticates without sending. */
  verify(): Promise<true>;
  close(): void;
  isIdle?(): boolean;
  /** Registers for 'idle' when the route has a pool that can become idle. */
  onIdle?(listener: () => void): void;
  /** Recipients one message may have on this route; checked before any connection. */
  readonly maxRecipients?: number;
  /** Whether this route retries its own attempts (failover retries per route). */
  readonly retriesInside?: boolean;
  /** The sending budgets of this route (each failover route's, marked with its index). */
  budgetStatus?(): Promise<BudgetStatus[]>;
}
