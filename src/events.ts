import type { ErrorCode } from './errors.js';

/**
 * Events emitted on the transporter `createGmailTransport` returns, beside nodemailer's own
 * (`idle`, `error`). None ever carries a secret: tokens and passwords stay out of payloads.
 */
export interface TransportEvents {
  /** An access token was obtained (fetched, or read from a shared store). */
  token: { strategy: string; user: string; expiresAt: number; source: 'endpoint' | 'store' };
  /** Something went wrong that did not fail the send (a token store outage, a bad cached value). */
  warning: { code: string; message: string; strategy?: string };
  /** A failed attempt is about to be retried. */
  retry: { strategy: string; attempt: number; delayMs: number; code: ErrorCode; messageId?: string };
  /** Failover: a route failed and the next one is tried, or a route delivered. */
  failover: { from: number; to: number; fromStrategy: string; toStrategy: string; code: ErrorCode };
  /** Failover: which route delivered the message. */
  delivered: { route: number; strategy: string; messageId?: string };
}

/** Names of the events in {@link TransportEvents}. */
export type TransportEventName = keyof TransportEvents;
