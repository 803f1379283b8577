import { isGmailTransportError, type GmailTransportError } from '../errors/error.js';
import { mapError } from '../errors/map-error.js';
import { RouteWrapper, type OutgoingMail, type Route, type SendCallback } from '../core/route.js';
import type { ResolvedConfig } from '../core/config.js';
import type { StrategyContext } from '../core/context.js';
import { Budget, type Admitted } from './budget.js';
import { hasLimits, resolveLimits } from './limits.js';
import { ledgerFor } from './store.js';
import type { BudgetStatus, BudgetSubject } from '../core/budget.js';

/**
 * The route with its budget in front, or the route as it is when it has none (`budget:
 * false`, a relay without limits, a strategy that sends as no mailbox).
 */
export function withBudget(route: Route, config: ResolvedConfig, subject: BudgetSubject | undefined, ctx: StrategyContext): Route {
  const options = config.budget;
  if (!subject || options === false) return route;
  const limits = resolveLimits(subject, options ?? {});
  if (!hasLimits(limits)) return route;
  const emit = ctx.emit;
  const now = (): number => ctx.clock.now();
  const ledger = ledgerFor(options?.store, (code, message) => emit('warning', { code, message, strategy: config.strategy }), now);
  return new BudgetedRoute(route, new Budget(subject, limits, ledger, { strategy: config.strategy, locale: config.locale, emit, now }));
}

/**
 * A route behind a sending budget: each attempt is admitted by the budget before it reaches
 * the route (a refusal costs no network), and its outcome settles the reservation before the
 * caller hears of it, so a retry, the next route of a failover or another process sees the
 * count as it is.
 */
class BudgetedRoute extends RouteWrapper {
  readonly #budget: Budget;

  constructor(route: Route, budget: Budget) {
    super(route);
    this.#budget = budget;
  }

  send(mail: OutgoingMail, callback: SendCallback): void {
    let admission;
    try {
      admission = this.#budget.admit(mail);
    } catch (err) {
      setImmediate(callback, this.#map(err));
      return;
    }
    if (admission instanceof Promise) {
      admission.then(
        (admitted) => this.#go(mail, admitted, callback),
        (err: unknown) => callback(this.#map(err)),
      );
    } else {
      // Answered on a later turn, as a route that went to the network would be.
      if (isGmailTransportError(admission)) setImmediate(callback, admission);
      else this.#go(mail, admission, callback);
    }
  }

  override budgetStatus(): Promise<BudgetStatus[]> {
    return this.#budget.status(this.strategy);
  }

  #go(mail: OutgoingMail, admitted: GmailTransportError | Admitted, callback: SendCallback): void {
    if (isGmailTransportError(admitted)) {
      callback(admitted);
      return;
    }
    const done: SendCallback = (err, info) => {
      const settled = this.#budget.settle(admitted, err);
      if (settled instanceof Promise)
        settled.then(
          () => callback(err, info),
          () => callback(err, info),
        );
      else callback(err, info);
    };
    this.inner.send(mail, done);
  }

  #map(err: unknown): GmailTransportError {
    return isGmailTransportError(err) ? err : mapError(err, { strategy: this.strategy });
  }
}
