import { createTransport, type MailDefaults, type SendMailOptions, type SentMessageInfo, type Transporter } from 'nodemailer';
import { resolveConfig } from './config.js';
import { strategies, type GmailTransportConfig, type StrategyName } from './strategies/index.js';
import type { ResolvedConfig, SmtpPlan, Strategy, StrategyContext } from './strategies/types.js';
import type { TransportEvents } from './events.js';
import { mapError } from './errors/map-error.js';
import { ManagedTransport } from './internal/managed-transport.js';
import { SmtpRoute } from './internal/smtp-route.js';
import type { Route } from './internal/route.js';
import { withBudget } from './budget/route.js';
import type { BudgetStatus } from './budget/types.js';

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
  const resolved = resolveConfig(config);
  const transport = new ManagedTransport(resolved);
  const ctx: StrategyContext = {
    locale: resolved.locale,
    emit: (event, payload) => transport.publish(event, payload),
    createRoute: (nested) => buildRoute(nested, ctx),
  };
  transport.attach(buildRoute(resolved, ctx));
  const mailer = createTransport(transport, defaults);
  wrapSendMail(mailer, resolved);
  (mailer as unknown as GmailTransporter).budgetStatus = () => transport.route.budgetStatus?.() ?? Promise.resolve([]);
  return mailer as unknown as GmailTransporter;
}

function buildRoute(config: ResolvedConfig, ctx: StrategyContext): Route {
  const strategy = strategies[config.strategy as StrategyName] as unknown as Strategy<string, object, unknown>;
  const made = strategy.create(config.options, ctx);
  const route = isSmtpPlan(made) ? new SmtpRoute(made, config, ctx) : made;
  return withBudget(route, config, strategy.budgetSubject?.(config.options), ctx);
}

function isSmtpPlan(value: SmtpPlan | Route): value is SmtpPlan {
  return (value as SmtpPlan).kind === 'smtp';
}

/**
 * Errors raised by nodemailer itself before our transport runs (a plugin, a file attachment
 * that cannot be read) still leave sendMail as GmailTransportError.
 */
function wrapSendMail(mailer: Transporter<SentMessageInfo>, config: ResolvedConfig): void {
  const original = mailer.sendMail.bind(mailer) as (data: SendMailOptions, cb?: (err: Error | null, info: SentMessageInfo) => void) => Promise<SentMessageInfo> | undefined;
  const context = { strategy: config.strategy, locale: config.locale };
  const sendMail = (data: SendMailOptions, callback?: (err: Error | null, info?: SentMessageInfo) => void): Promise<SentMessageInfo> | undefined => {
    if (callback) {
      let called = false;
      const done = (err: Error | null, info?: SentMessageInfo): void => {
        called = true;
        if (err) callback(mapError(err, context));
        else callback(null, info);
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
        original(data, (err, info) => (err ? reject(mapError(err, context)) : resolve(info)));
      } catch (err) {
        // As above: a rejection, and a typed one, rather than a throw out of sendMail.
        reject(mapError(err, context));
      }
    });
  };
  (mailer as { sendMail: unknown }).sendMail = sendMail;
}
