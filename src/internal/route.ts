import type { MailMessage, SentMessageInfo } from 'nodemailer';

/** The message nodemailer hands a transport: composed data plus its MIME tree. */
export type OutgoingMail = MailMessage<SentMessageInfo>;

/**
 * One way of delivering a message: an SMTP connection or pool, the Gmail API, or a failover
 * over several routes. Promise-based and throws only GmailTransportError; the transport adapts
 * it to nodemailer's callback contract.
 */
export interface Route {
  readonly strategy: string;
  /** Delivers once. Retries are the caller's (see internal/retry.ts). */
  send(mail: OutgoingMail): Promise<SentMessageInfo>;
  /** Connects and authenticates without sending. */
  verify(): Promise<true>;
  close(): void;
  isIdle?(): boolean;
  /** Registers for 'idle' when the route has a pool that can become idle. */
  onIdle?(listener: () => void): void;
  /** Whether this route retries its own attempts (failover retries per route). */
  readonly retriesInside?: boolean;
}
