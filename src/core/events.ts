import type { ErrorCode } from '../errors/error.js';

/**
 * Events emitted on the transporter `createGmailTransport` returns, beside nodemailer's own
 * (`idle`, `error`). None ever carries a secret: tokens and passwords stay out of payloads.
 */
export interface TransportEvents {
  /** An access token was obtained (fetched, or read from a shared store). */
  token: { strategy: string; user: string; expiresAt: number; source: 'endpoint' | 'store' };
  /**
   * Something went wrong that did not fail the send (a token store outage, a bad cached value),
   * or needs attention before it does (`BUDGET_LOW`: 80% of a sending budget is used).
   */
  warning: { code: string; message: string; strategy?: string };
  /**
   * A failed attempt is about to be retried after `delayMs`. `attempt` is the attempt that
   * failed (1 = the first); `route` is the failover route's index, for a failover transport.
   */
  retry: { strategy: string; attempt: number; delayMs: number; code: ErrorCode; messageId?: string; route?: number };
  /** Failover: route `from` failed with `code` (after its own retries) and route `to` is tried next. */
  failover: { from: number; to: number; fromStrategy: string; toStrategy: string; code: ErrorCode; messageId?: string };
  /** Failover: route `route` delivered the message (`failedOver`: after another route failed). */
  delivered: { route: number; strategy: string; messageId?: string; failedOver: boolean };
}

/** Names of the events in {@link TransportEvents}. */
export type TransportEventName = keyof TransportEvents;
