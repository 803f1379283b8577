import type { SentMessageInfo } from 'nodemailer';
import type { ResolvedConfig } from '../../core/config.js';
import type { StrategyContext } from '../../core/context.js';
import { sendOnce, type OutgoingMail, type Route, type SendCallback } from '../../core/route.js';
import type { BudgetStatus } from '../../core/budget.js';
import { isGmailTransportError, type ErrorCode, type GmailTransportError } from '../../errors/error.js';
import { mapError } from '../../errors/map-error.js';
import { allRoutesFailed, withRoute } from '../../errors/route-errors.js';
import { isReplayable } from '../../delivery/retry.js';
import { abortError, signalOf } from '../../delivery/abort.js';
import { noteRoute } from '../../send-log/trace.js';

export interface FailoverOptions {
  routes: readonly ResolvedConfig[];
  cooldownMs: number;
}

/**
 * Codes after which the next route is tried: the route can't take mail now, and the message
 * was certainly not accepted. RECIPIENT_REJECTED, MESSAGE_REJECTED, POLICY_REJECTED,
 * SYNTAX_ERROR, PERMANENT_FAILURE and UNKNOWN may be about the message, which another route
 * would refuse or (worse) deliver differently; DELIVERY_UNCERTAIN may have been delivered.
 */
export const FAILOVER_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'QUOTA_EXCEEDED',
  'RATE_LIMITED',
  'TEMPORARY_FAILURE',
  'CONNECTION_FAILED',
  'TLS_FAILED',
  'TLS_REQUIRED',
  'RELAY_DENIED',
  'AUTH_INVALID_CREDENTIALS',
  'AUTH_APP_PASSWORD_REQUIRED',
  'AUTH_WEB_LOGIN_REQUIRED',
  'AUTH_UNAVAILABLE',
  'OAUTH_TOKEN_REJECTED',
  'OAUTH_INVALID_GRANT',
  'OAUTH_INVALID_CLIENT',
  'OAUTH_SCOPE_DENIED',
]);

interface RouteSlot {
  readonly config: ResolvedConfig;
  readonly route: Route;
  coolingUntil: number;
  coolingError?: GmailTransportError;
}

/**
 * Several routes tried in order: the first that takes the message wins (see FailoverConfig for
 * when the next route is tried). Each route comes from `ctx.createRoute` built from its own
 * config: its own retry policy, logger and locale.
 */
export class FailoverRoute implements Route {
  readonly strategy = 'failover';
  readonly #slots: RouteSlot[];
  readonly #cooldownMs: number;
  readonly #ctx: StrategyContext;

  constructor(options: FailoverOptions, ctx: StrategyContext) {
    this.#ctx = ctx;
    this.#cooldownMs = options.cooldownMs;
    this.#slots = options.routes.map((config, index) => ({ config, route: ctx.createRoute(config, index), coolingUntil: 0 }));
  }

  /** The smallest of the routes' limits: a message must fit every route it may fail over to. */
  get maxRecipients(): number | undefined {
    const limits = this.#slots.flatMap((slot) => (slot.route.maxRecipients === undefined ? [] : [slot.route.maxRecipients]));
    return limits.length > 0 ? Math.min(...limits) : undefined;
  }

  send(mail: OutgoingMail, callback: SendCallback): void {
    this.#send(mail).then(
      (info) => callback(null, info),
      (err: unknown) => callback(isGmailTransportError(err) ? err : mapError(err, { strategy: this.strategy, locale: this.#ctx.locale })),
    );
  }

  async #send(mail: OutgoingMail): Promise<SentMessageInfo> {
    const messageId = safeMessageId(mail);
    const errors: GmailTransportError[] = [];
    let failedOver = false;
    for (let index = 0; index < this.#slots.length; index++) {
      const slot = this.#slots[index]!;
      if (slot.coolingError && this.#ctx.clock.now() < slot.coolingUntil) {
        errors.push(slot.coolingError);
        continue;
      }
      noteRoute(mail, index, slot.route);
      try {
        const info = await sendOnce(slot.route, mail);
        this.#ctx.emit('delivered', { route: index, strategy: slot.config.strategy, failedOver, ...(messageId ? { messageId } : {}) });
        return info;
      } catch (thrown) {
        const error = withRoute(
          isGmailTransportError(thrown) ? thrown : mapError(thrown, { strategy: slot.config.strategy, locale: slot.config.locale }),
          index,
        );
        const coolFor = this.#coolFor(error);
        if (coolFor > 0) {
          slot.coolingUntil = this.#ctx.clock.now() + coolFor;
          slot.coolingError = error;
        }
        if (!FAILOVER_CODES.has(error.code)) throw error;
        // Aborted meanwhile: the caller no longer wants it sent, by this route or the next.
        const signal = signalOf(mail);
        if (signal?.aborted) throw abortError(signal, { strategy: slot.config.strategy, locale: slot.config.locale, ...(messageId ? { messageId } : {}) });
        errors.push(error);
        const next = this.#nextAvailable(index + 1);
        // A stream in the message that this route already read cannot be read again: the next
        // route would send a truncated message. The caller gets the error, still `retryable`
        // where it was, to resend with fresh content.
        if (next !== undefined && !isReplayable(mail)) throw error;
        if (next !== undefined) {
          failedOver = true;
          this.#ctx.emit('failover', {
            from: index,
            to: next,
            fromStrategy: slot.config.strategy,
            toStrategy: this.#slots[next]!.config.strategy,
            code: error.code,
            ...(messageId ? { messageId } : {}),
          });
        }
      }
    }
    throw allRoutesFailed(errors, { ...this.#quotaRetryAfter(errors), ...(messageId ? { messageId } : {}) });
  }

  /** Ready when at least one route is; each route that is not is reported as a `warning`. */
  async verify(): Promise<true> {
    const results = await Promise.allSettled(this.#slots.map((slot) => slot.route.verify()));
    const errors = results.flatMap((result, index) => {
      if (result.status === 'fulfilled') return [];
      const slot = this.#slots[index]!;
      const reason: unknown = result.reason;
      return [withRoute(isGmailTransportError(reason) ? reason : mapError(reason, { strategy: slot.config.strategy, locale: slot.config.locale }), index)];
    });
    if (errors.length === results.length) throw allRoutesFailed(errors);
    for (const error of errors) {
      this.#ctx.emit('warning', {
        code: error.code,
        message: `Failover route ${error.route} failed verification: ${error.message}`,
        strategy: error.strategy ?? this.strategy,
      });
    }
    return true;
  }

  close(): void {
    for (const slot of this.#slots) slot.route.close();
  }

  isIdle(): boolean {
    return this.#slots.every((slot) => slot.route.isIdle?.() ?? true);
  }

  async budgetStatus(): Promise<BudgetStatus[]> {
    const perRoute = await Promise.all(
      this.#slots.map(async (slot, index) => ((await slot.route.budgetStatus?.()) ?? []).map((s) => ({ ...s, route: index }))),
    );
    return perRoute.flat();
  }

  /**
   * How long a route that failed with `error` is skipped. A quota refusal cools it down; one
   * from its sending budget (phase `budget`) no longer than until the budget frees, and not at
   * all when the message alone was refused (too many recipients).
   */
  #coolFor(error: GmailTransportError): number {
    if (error.code !== 'QUOTA_EXCEEDED') return 0;
    if (error.phase !== 'budget') return this.#cooldownMs;
    return error.retryAfterMs === undefined ? 0 : Math.min(this.#cooldownMs, error.retryAfterMs);
  }

  onIdle(listener: () => void): void {
    for (const slot of this.#slots) slot.route.onIdle?.(listener);
  }

  #nextAvailable(from: number): number | undefined {
    const now = this.#ctx.clock.now();
    for (let index = from; index < this.#slots.length; index++) {
      const slot = this.#slots[index]!;
      if (!slot.coolingError || now >= slot.coolingUntil) return index;
    }
    return undefined;
  }

  /**
   * When the aggregate is a quota error, the wait until the first route may take mail again:
   * the first cool-down to end, or the first sending budget to free. None when a route failed
   * in a way that may pass sooner (a connection problem).
   */
  #quotaRetryAfter(errors: readonly GmailTransportError[]): { retryAfterMs?: number } {
    const budgetWaits = errors.filter((e) => e.retryable && e.phase === 'budget' && e.retryAfterMs !== undefined).map((e) => e.retryAfterMs!);
    if (errors.some((e) => e.retryable && !(e.phase === 'budget' && e.retryAfterMs !== undefined))) return {};
    const now = this.#ctx.clock.now();
    const ends = [...budgetWaits, ...this.#slots.filter((s) => s.coolingError && s.coolingUntil > now).map((s) => s.coolingUntil - now)];
    return ends.length > 0 && errors.at(-1)?.code === 'QUOTA_EXCEEDED' ? { retryAfterMs: Math.min(...ends) } : {};
  }
}

function safeMessageId(mail: OutgoingMail): string | undefined {
  try {
    return mail.message.messageId();
  } catch {
    return undefined;
  }
}
