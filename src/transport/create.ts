import { createTransport, type MailDefaults, type SendMailOptions, type SentMessageInfo, type Transporter } from 'nodemailer';
import { resolveConfig } from '../config/resolve-config.js';
import { strategies, type GmailTransportConfig, type StrategyName } from '../strategies/index.js';
import type { ResolvedConfig } from '../core/config.js';
import type { SmtpPlan } from '../core/smtp-plan.js';
import type { Strategy } from '../strategies/types.js';
import type { StrategyContext } from '../core/context.js';
import type { TransportEvents } from '../core/events.js';
import { mapError } from '../errors/map-error.js';
import { ManagedTransport } from './managed-transport.js';
import { SmtpRoute } from '../routes/smtp/smtp-route.js';
import type { Route } from '../core/route.js';
import type { ResolvedDkim } from '../core/config.js';
import type { GmailTransportError } from '../errors/error.js';
import { factsOfData, type RecordInput } from '../send-log/record.js';
import { sendContextOf, takeTrace } from '../send-log/trace.js';
import type { SendLogWriter } from '../send-log/writer.js';
import { withBudget } from '../budget/route.js';
import { withRetry } from '../delivery/retry.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { BudgetStatus } from '../core/budget.js';

/**
 * A nodemailer Transporter (`sendMail`, `verify`, `close`, `use`, events) whose `on` also knows
 * gmail-transport's own events.
 */
export type GmailTransporter = Transporter<SentMessageInfo> & {
  on<K extends keyof TransportEvents>(event: K, listener: (payload: TransportEvents[K]) => void): GmailTransporter;
  once<K extends keyof TransportEvents>(event: K, listener: (payload: TransportEvents[K]) => void): GmailTransporter;
  /** Used and left of each sending budget over the last 24 hours (each failover route's, with its index). */
  budgetStatus(): Promise<BudgetStatus[]>;
};

/**
 * Creates a nodemailer transporter that sends through Google (or a relay) with the chosen
 * strategy. The config is validated here, before any network; nothing connects until the
 * first `sendMail` or `verify`.
 *
 * @param config - One of the strategies' configs, discriminated on `strategy`.
 * @param defaults - nodemailer message defaults merged into every message (e.g. `from`).
 * @throws GmailTransportError `CONFIG_INVALID` listing every invalid field by path.
 * @example
 * ```ts
 * const mailer = createGmailTransport({ strategy: 'app-password', user: 'me@gmail.com', appPassword: process.env.GMAIL_APP_PASSWORD! });
 * await mailer.sendMail({ from: 'me@gmail.com', to: 'you@example.com', subject: 'Hi', text: 'Hello' });
 * ```
 */
export function createGmailTransport(config: GmailTransportConfig, defaults?: MailDefaults): GmailTransporter {
  return createTransportWith(config, defaults, {});
}

/** What the package's own tests and simulations may replace; not public. */
export interface TransportInternals {
  /** @default systemClock */
  clock?: Clock;
}

/** createGmailTransport with internals replaced (a test's clock). */
export function createTransportWith(config: GmailTransportConfig, defaults: MailDefaults | undefined, internals: TransportInternals): GmailTransporter {
  const resolved = resolveConfig(config);
  const transport = new ManagedTransport(resolved);
  transport.attach(buildRoute(resolved, transport, internals.clock ?? systemClock));
  const mailer = createTransport(transport, defaults);
  if (resolved.dkim) signWith(mailer, resolved.dkim);
  wrapSendMail(mailer, resolved, transport);
  (mailer as unknown as GmailTransporter).budgetStatus = () => transport.route.budgetStatus?.() ?? Promise.resolve([]);
  return mailer as unknown as GmailTransporter;
}

/**
 * The route of `config`, built with a context of its own: its events go to its own logger, its
 * errors speak its own locale, and it is retried with its own policy. A failover's routes are
 * built the same way, each from its own config (`index` is its place in the failover).
 */
function buildRoute(config: ResolvedConfig, transport: ManagedTransport, clock: Clock, index?: number): Route {
  const strategy = strategies[config.strategy as StrategyName] as unknown as Strategy<string, object, unknown>;
  const logger = config.logger;
  const emit: StrategyContext['emit'] = (event, payload) => transport.publish(event, payload, logger);
  const ctx: StrategyContext = { locale: config.locale, clock, emit, createRoute: (nested, at) => buildRoute(nested, transport, clock, at) };
  const made = strategy.create(config.options, ctx);
  const route = withBudget(isSmtpPlan(made) ? new SmtpRoute(made, config, ctx) : made, config, strategy.budgetSubject?.(config.options), ctx);
  if (strategy.retriesEachRoute) return route;
  return withRetry(route, config.retry, { emit, locale: config.locale, clock, ...(index !== undefined ? { routeIndex: index } : {}) });
}

function isSmtpPlan(value: SmtpPlan | Route): value is SmtpPlan {
  return (value as SmtpPlan).kind === 'smtp';
}

/**
 * Hands each message nodemailer's own DKIM options (its per-message `dkim` field), unless the
 * message brings its own: nodemailer then signs the finished message, on every attempt and on
 * every route. The key leaves its Secret only here, on the message being sent.
 */
function signWith(mailer: Transporter<SentMessageInfo>, dkim: ResolvedDkim): void {
  mailer.use('compile', (mail, done) => {
    const data = mail.data as SendMailOptions;
    data.dkim ??= { domainName: dkim.domainName, keySelector: dkim.keySelector, privateKey: dkim.privateKey.reveal() };
    done();
  });
}

/**
 * Errors raised by nodemailer itself before our transport runs (a plugin, a file attachment
 * that cannot be read) still leave sendMail as GmailTransportError. With a send log, every
 * outcome is recorded, and handed to the log, before sendMail settles.
 */
function wrapSendMail(mailer: Transporter<SentMessageInfo>, config: ResolvedConfig, transport: ManagedTransport): void {
  const original = mailer.sendMail.bind(mailer) as (
    data: SendMailOptions,
    cb?: (err: Error | null, info: SentMessageInfo) => void,
  ) => Promise<SentMessageInfo> | undefined;
  const context = { strategy: config.strategy, locale: config.locale };
  const record = transport.sendLog ? createRecorder(transport, transport.sendLog) : undefined;
  // Settles a send with its outcome, once that is in the send log when there is one. Made
  // once, not per send (see ManagedTransport on what waits in a pool's queue).
  const settle = (
    data: SendMailOptions,
    startedAt: number,
    err: unknown,
    info: SentMessageInfo | undefined,
    resolve: (info: SentMessageInfo) => void,
    reject: (err: GmailTransportError) => void,
  ): void => {
    const mapped = err ? mapError(err, context) : undefined;
    if (record) {
      transport.unrecordedSends--;
      record(data, mapped, info, startedAt, () => (mapped ? reject(mapped) : resolve(info as SentMessageInfo)));
    } else if (mapped) reject(mapped);
    else resolve(info as SentMessageInfo);
  };
  const sendMail = (data: SendMailOptions, callback?: (err: Error | null, info?: SentMessageInfo) => void): Promise<SentMessageInfo> | undefined => {
    let startedAt = 0;
    if (record) {
      startedAt = Date.now();
      transport.unrecordedSends++;
    }
    if (callback) {
      let called = false;
      const done = (err: Error | null, info?: SentMessageInfo): void => {
        called = true;
        settle(data, startedAt, err, info, (i) => callback(null, i), callback);
      };
      try {
        original(data, done);
      } catch (err) {
        // nodemailer calls back synchronously on some failures: a throw out of the caller's
        // own callback is theirs, passed on, not reported to that callback a second time.
        if (called) throw err;
        // A throw while nodemailer reads the message data (a getter of the caller's), before
        // it took the message: an error of this send, reported like the others.
        done(err as Error);
      }
      return undefined;
    }
    // One promise, settled from nodemailer's callback: not nodemailer's promise with a `.catch`
    // on it, which makes two more objects that wait in a pool's queue with every message
    // (see ManagedTransport).
    return new Promise<SentMessageInfo>((resolve, reject) => {
      try {
        original(data, (err, info) => settle(data, startedAt, err, info, resolve, reject));
      } catch (err) {
        // As above: a rejection, and a typed one, rather than a throw out of sendMail.
        settle(data, startedAt, err, undefined, resolve, reject);
      }
    });
  };
  (mailer as { sendMail: unknown }).sendMail = sendMail;
}

type Recorder = (data: SendMailOptions, error: GmailTransportError | undefined, info: SentMessageInfo | undefined, startedAt: number, done: () => void) => void;

/** Hands each send's outcome, with what the transport traced, to the log that makes its record. */
function createRecorder(transport: ManagedTransport, log: SendLogWriter): Recorder {
  return (data, error, info, startedAt, done) => {
    let input: RecordInput;
    try {
      const trace = takeTrace(error ?? info);
      input = {
        route: transport.route,
        trace,
        // No trace: the message never reached the transport (a plugin or the data failed first).
        facts: trace?.facts ?? factsOfData((data ?? {}) as Record<string, unknown>, log.privacy),
        outcome: error ? { error } : { info: info as SentMessageInfo },
        startedAt,
        now: Date.now(),
        privacy: log.privacy,
        context: sendContextOf(data),
      };
    } catch {
      // Only the caller's data can throw here (a getter): the send's outcome stands without a record.
      transport.publish('warning', {
        code: 'SEND_LOG_WRITE_FAILED',
        message: 'could not build the send-log record of a message from its data',
        strategy: transport.route.strategy,
      });
      done();
      return;
    }
    log.write(input, done);
  };
}
