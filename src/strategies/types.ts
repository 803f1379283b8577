import type { ConnectionOptions as TlsOptions } from 'node:tls';
import type { GmailTransportError } from '../errors.js';
import type { MapErrorContext } from '../errors/map-error.js';
import type { Locale } from '../errors/hints.js';
import type { Secret } from '../internal/secret.js';
import type { DkimOptions, ResolvedDkim } from '../internal/dkim.js';
import type { ConfigChecker, Raw } from '../internal/validate.js';
import type { Route } from '../internal/route.js';
import type { AccessTokenSource } from '../tokens/types.js';
import type { TransportEvents } from '../events.js';
import type { ResolvedSendLog } from '../send-log/options.js';
import type { SendLogOptions } from '../send-log/types.js';
import type { BudgetOptions, BudgetSubject } from '../budget/types.js';

/** Where and how an SMTP strategy connects, after defaults and the user's `smtp` override. */
export interface SmtpEndpoint {
  host: string;
  port: number;
  /** Implicit TLS from the first byte (port 465). */
  secure: boolean;
  /** STARTTLS is mandatory: the connection fails rather than continue in clear. */
  requireTLS: boolean;
  /** The EHLO name. */
  name?: string;
  tls?: TlsOptions;
  connectionTimeoutMs?: number;
  greetingTimeoutMs?: number;
  socketTimeoutMs?: number;
}

/** Credentials an SMTP route logs in with. */
export type SmtpAuth =
  | { kind: 'password'; user: string; pass: Secret; method?: 'PLAIN' | 'LOGIN' }
  | { kind: 'oauth2'; user: string; tokens: AccessTokenSource };

/** What an SMTP strategy asks for: the generic SMTP route builds the nodemailer transport. */
export interface SmtpPlan {
  kind: 'smtp';
  endpoint: SmtpEndpoint;
  auth?: SmtpAuth;
  /** How errors of this route are classified (see mapError). */
  errorContext: Pick<MapErrorContext, 'authKind' | 'credentialShape'>;
}

/** Everything a strategy may use at creation time. */
export interface StrategyContext {
  locale: Locale;
  /** Emits one of the documented transporter events. */
  emit: <K extends keyof TransportEvents>(event: K, payload: TransportEvents[K]) => void;
  /** Builds a route for a nested config (failover). */
  createRoute: (config: ResolvedConfig, index: number) => Route;
}

/** What `parse` gets besides the raw input. */
export interface ParseContext {
  /** Resolves a nested transport config (failover routes), reporting its issues under `path`. */
  resolveNested: (raw: unknown, check: ConfigChecker) => ResolvedConfig | undefined;
}

/**
 * The one interface every strategy implements. Adding a strategy is one new file that exports
 * an object satisfying it, plus one line in `strategies/index.ts`.
 */
export interface Strategy<Name extends string, Input extends object, Options> {
  /** Matches the file name: `'app-password'` lives in `app-password.ts`. */
  readonly name: Name;
  /** Option keys besides the common ones, so unknown keys are reported. */
  readonly keys: readonly string[];
  /** Validates raw options, reporting every problem to `check`. Never touches the network. */
  parse(input: Raw, check: ConfigChecker, ctx: ParseContext): Options | undefined;
  /** Returns an SMTP plan, or a route of its own (Gmail API, failover). */
  create(options: Options, ctx: StrategyContext): SmtpPlan | Route;
  /** Optional: classifies failures specific to this strategy before the generic mapper. */
  mapError?(error: unknown): GmailTransportError | undefined;
  /** Optional: the mailbox the strategy sends as, whose sending budget it counts against (see budget/). */
  budgetSubject?(options: Options): BudgetSubject | undefined;
  /** Type-level only: the user-facing input type. */
  readonly __input?: Input;
}

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

/** A minimal structured logger (pino, bunyan, winston and console all fit). */
export interface Logger {
  debug?(obj: Record<string, unknown>, msg?: string): void;
  info?(obj: Record<string, unknown>, msg?: string): void;
  warn?(obj: Record<string, unknown>, msg?: string): void;
  error?(obj: Record<string, unknown>, msg?: string): void;
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
