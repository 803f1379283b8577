import type { ConnectionOptions as TlsOptions } from 'node:tls';
import type { Locale } from '../errors/hints.js';
import type { Secret } from './secret.js';
import type { Logger } from './logger.js';
import type { ResolvedSendLog, SendLogOptions } from './send-log.js';
import type { BudgetOptions } from './budget.js';

/** Options every strategy accepts. */
export interface CommonOptions {
  /** Language of error hints. @default 'en' */
  locale?: Locale;
  /** Retries of failures that cannot have delivered the message; `false` turns them off. */
  retry?: false | RetryOptions;
  /** Optional logger hook; gmail-transport never writes to the console itself. */
  logger?: Logger;
  /** Keep connections open and reuse them (nodemailer's pool). @default false */
  pool?: boolean;
  /** With `pool`: connections at most. @default 5 */
  maxConnections?: number;
  /** With `pool`: messages per connection before it is renewed. @default 100 */
  maxMessages?: number;
  /** With `pool`: the window of `rateLimit`, in ms. @default 1000 */
  rateDelta?: number;
  /** With `pool`: messages per `rateDelta` at most. */
  rateLimit?: number;
  /**
   * Sign every message with DKIM (nodemailer's signer) as `domainName`, for a relay or server
   * that does not sign with your domain. Check the published key with `gmail-transport doctor`.
   */
  dkim?: DkimOptions;
  /**
   * One record per `sendMail` outcome: daily JSON-lines files in `dir`, read with
   * `gmail-transport log` or `readSendLog()`, or your own `{ write(record) }`. Off by default.
   */
  sendLog?: SendLogOptions;
  /**
   * Counts ahead of Google's daily sending limits, per mailbox, over a rolling 24 hours;
   * `false` turns it off. @default Google's published limits for the route (docs/budget.md)
   */
  budget?: BudgetOptions | false;
}

/** Retry policy: exponential backoff with full jitter, bounded in attempts and total time. */
export interface RetryOptions {
  /** Attempts in all, the first included. @default 3 */
  attempts?: number;
  /** @default 500 */
  minDelayMs?: number;
  /** @default 30000 */
  maxDelayMs?: number;
  /** No new attempt starts after this long since the first. @default 120000 */
  maxElapsedMs?: number;
}

/** The user's `smtp` override, common to every SMTP strategy. */
export interface SmtpOverride {
  host?: string;
  port?: number;
  secure?: boolean;
  /**
   * Without `secure`: fail unless the server upgrades with STARTTLS. `false` upgrades only when
   * offered, and is refused with credentials unless `dangerouslyAllowCredentialsInClear` is set.
   * @default true
   */
  requireTLS?: boolean;
  /** Node TLS options (e.g. `ca` for a private CA). Certificate checks stay on unless you turn them off here. */
  tls?: TlsOptions;
  /** EHLO name. */
  name?: string;
  /** @default 120000 */
  connectionTimeoutMs?: number;
  /**
   * How long to wait for the server's greeting. Without one on a plain-text connection, the
   * port is checked for implicit TLS (a `secure: false` that should be `true`).
   * @default 10000
   */
  greetingTimeoutMs?: number;
  /** @default 600000 */
  socketTimeoutMs?: number;
  /**
   * Allow credentials over a connection with neither TLS nor mandatory STARTTLS. Only for a
   * test server on a trusted network; the name says what it does.
   * @default false
   */
  dangerouslyAllowCredentialsInClear?: boolean;
}

/** The validated, frozen config a transport is built from. */
export interface ResolvedConfig {
  readonly strategy: string;
  readonly options: unknown;
  readonly locale: Locale;
  readonly retry: Required<RetryOptions> | false;
  readonly logger?: Logger;
  readonly pool?: {
    readonly maxConnections: number;
    readonly maxMessages: number;
    readonly rateDelta?: number;
    readonly rateLimit?: number;
  };
  readonly dkim?: ResolvedDkim;
  readonly sendLog?: ResolvedSendLog;
  /** The user's `budget` option; absent: the route's defaults. */
  readonly budget?: Readonly<BudgetOptions> | false;
}

/**
 * The `dkim` option: sign each message with nodemailer's DKIM signer before it leaves, for a
 * relay or server that does not sign with your domain. Publish the public key at
 * `<keySelector>._domainkey.<domainName>` (`gmail-transport doctor` prints the record).
 */
export interface DkimOptions {
  /** The signing domain (`d=`), normally the From address's domain. */
  domainName: string;
  /** The selector (`s=`): the key is published at `<keySelector>._domainkey.<domainName>`. */
  keySelector: string;
  /**
   * The RSA private key in PEM, at least 1024 bits (2048 recommended). A secret: in a config
   * file give it as `{ "file": "dkim.pem" }` or `{ "env": "DKIM_PRIVATE_KEY" }` (see loadConfig);
   * `\n` written as two characters, as environment variables often carry PEM, is accepted.
   */
  privateKey: string;
}

/** The validated option, the key held as a {@link Secret}. */
export interface ResolvedDkim {
  readonly domainName: string;
  readonly keySelector: string;
  readonly privateKey: Secret;
}
