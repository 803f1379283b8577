import type { ErrorCode } from '../errors/error.js';

/**
 * What became of one `sendMail`: `delivered` (the server accepted it), `refused` (a permanent
 * error), `deferred` (a retryable error: the caller or device may try again later), `uncertain`
 * (DELIVERY_UNCERTAIN: the connection was lost after the message was sent).
 */
export type SendStatus = 'delivered' | 'refused' | 'deferred' | 'uncertain';

/** Every {@link SendStatus}, in the order the CLI lists them. */
export const SEND_STATUSES: readonly SendStatus[] = Object.freeze(['delivered', 'refused', 'deferred', 'uncertain']);

/** How recipients appear in records: as given, only their domain (`*@example.com`), or not at all. */
export type SendLogRecipients = 'full' | 'domain' | 'none';

/**
 * One line of the send log: the outcome of one `sendMail` (for the bridge, of one message a
 * device handed over). Never a body, password or token.
 */
export interface SendRecord {
  /** Unique id of the record (for the bridge, its message id `<session>.<transaction>`). */
  id: string;
  /** When the outcome was known, ISO 8601 in UTC. */
  time: string;
  /** The strategy that decided: for a failover, the strategy of the route that delivered or failed last. */
  strategy: string;
  /** For a failover: the index of that route in `transports`. */
  route?: number;
  /** The account the route logs in as (the mailbox), where it has one. */
  user?: string;
  /** The envelope sender; `''` for the null sender `<>`. */
  from: string;
  /** Every envelope recipient, as `recipients` allows (`[]` with `'none'`). */
  to: string[];
  /** Recipients the server refused while it accepted the message for the others. */
  rejected?: string[];
  messageId?: string;
  /** Size of the message in bytes, once it was built. */
  size?: number;
  status: SendStatus;
  /** The error code, for every status but `delivered`. */
  code?: ErrorCode;
  /** The server's reply on one line (or, without a reply, the error's summary). */
  response?: string;
  /** Google's queue id from the final `250 2.0.0 OK … - gsmtp` reply, or the Gmail API message id. */
  upstreamId?: string;
  /** From the `sendMail` call to its outcome, retries included. */
  latencyMs: number;
  /** Deliveries tried, across every route of a failover; 0 when the message never reached one. */
  attempts: number;
  /** Only with `subjects: true`. */
  subject?: string;
  /** Bridge: the device's login, or `network:<address>` for a device of an allowed network. */
  account?: string;
  /** Bridge: the device's address. */
  client?: string;
}

/** Where records go instead of files: your own store, stdout, a queue. */
export interface SendLogSink {
  /**
   * Called once per record. `sendMail` settles after the returned promise does; a throw or a
   * rejection is reported as a `warning` and never fails the send.
   */
  write(record: SendRecord): void | Promise<void>;
  /** @default false */
  subjects?: boolean;
  /** @default 'full' */
  recipients?: SendLogRecipients;
}

/** Daily files of JSON lines in `dir`: `send-YYYY-MM-DD.jsonl` (UTC dates). */
export interface SendLogFileOptions {
  /** The folder (created if missing). Several processes may write the same folder. */
  dir: string;
  /** Files whose day ended longer ago than this are removed. @default 30 */
  retentionDays?: number;
  /** Record each message's subject. @default false */
  subjects?: boolean;
  /** @default 'full' */
  recipients?: SendLogRecipients;
}

/** The `sendLog` option: files in a folder, or a sink of your own. */
export type SendLogOptions = SendLogFileOptions | SendLogSink;

/** What records keep of a message. */
export interface SendLogPrivacy {
  readonly subjects: boolean;
  readonly recipients: SendLogRecipients;
}

/** The validated `sendLog` option. */
export type ResolvedSendLog =
  | (SendLogPrivacy & { readonly kind: 'file'; readonly dir: string; readonly retentionDays: number })
  | (SendLogPrivacy & { readonly kind: 'sink'; readonly sink: SendLogSink });
