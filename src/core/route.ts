import type { MailMessage, SentMessageInfo } from 'nodemailer';
import type { GmailTransportError } from '../errors/error.js';
import type { BudgetStatus } from './budget.js';

/** The message nodemailer hands a transport: composed data plus its MIME tree. */
export type OutgoingMail = MailMessage<SentMessageInfo>;

/** How a route reports the outcome of one message: once, with a GmailTransportError or the info. */
export type SendCallback = (err: GmailTransportError | null, info?: SentMessageInfo) => void;

/**
 * One way of delivering a message: an SMTP connection or pool, the Gmail API, a failover over
 * several routes, or one of those behind a budget or a retry policy (delivery/retry.ts wraps a
 * route in another route). The transport adapts it to nodemailer's own transport contract.
 *
 * `send` is in nodemailer's callback style rather than a promise: a pool queues every message
 * it is given, and whatever a send allocates waits in that queue with it; promises around each
 * pooled send made V8's garbage collector copy more per queued message (docs/decisions/0004).
 */
export interface Route {
  readonly strategy: string;
  /** The account the route logs in as (the mailbox), where it has one: for send-log records. */
  readonly user?: string | undefined;
  /** Recipients one message may have on this route; checked before any connection. */
  readonly maxRecipients?: number;
  /** Delivers the message, or tries to; calls back once. */
  send(mail: OutgoingMail, callback: SendCallback): void;
  /** Connects and authenticates without sending. */
  verify(): Promise<true>;
  close(): void;
  /**
   * For nodemailer's `isIdle()` and `'idle'` event, which tell a caller feeding a pool when to
   * hand over more: a route with a pool says whether it has room, and calls `listener` when it
   * gets some. A route without either is always idle.
   */
  isIdle?(): boolean;
  onIdle?(listener: () => void): void;
  /** The sending budgets of this route (each failover route's, marked with its index). */
  budgetStatus?(): Promise<BudgetStatus[]>;
}

/** `route.send` as a promise, for code that awaits each attempt anyway (a retry, a failover). */
export function sendOnce(route: Route, mail: OutgoingMail): Promise<SentMessageInfo> {
  return new Promise((resolve, reject) => {
    route.send(mail, (err, info) => (err ? reject(err) : resolve(info as SentMessageInfo)));
  });
}

/**
 * A route in front of another (a sending budget, a retry policy): it decides how `send` reaches
 * the inner route, and everything else is the inner route's.
 */
export abstract class RouteWrapper implements Route {
  protected readonly inner: Route;

  constructor(inner: Route) {
    this.inner = inner;
  }

  get strategy(): string {
    return this.inner.strategy;
  }

  /** Read late: a route may load its mailbox late (see DeferredRoute). */
  get user(): string | undefined {
    return this.inner.user;
  }

  get maxRecipients(): number | undefined {
    return this.inner.maxRecipients;
  }

  abstract send(mail: OutgoingMail, callback: SendCallback): void;

  verify(): Promise<true> {
    return this.inner.verify();
  }

  close(): void {
    this.inner.close();
  }

  isIdle(): boolean {
    return this.inner.isIdle?.() ?? true;
  }

  onIdle(listener: () => void): void {
    this.inner.onIdle?.(listener);
  }

  budgetStatus(): Promise<BudgetStatus[]> {
    return this.inner.budgetStatus?.() ?? Promise.resolve([]);
  }
}
