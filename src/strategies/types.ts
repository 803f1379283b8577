import type { ConfigChecker, Raw } from '../core/validate.js';
import type { ResolvedConfig } from '../core/config.js';
import type { StrategyContext } from '../core/context.js';
import type { SmtpPlan } from '../core/smtp-plan.js';
import type { Route } from '../core/route.js';
import type { BudgetSubject } from '../core/budget.js';

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
  /**
   * Set by a strategy whose route is made of routes from `ctx.createRoute` (failover), each
   * already retried with its own policy: the whole is then not retried again, which would
   * multiply the attempts.
   */
  readonly retriesEachRoute?: true;
  /** Optional: the mailbox the strategy sends as, whose sending budget it counts against (see budget/). */
  budgetSubject?(options: Options): BudgetSubject | undefined;
  /** Type-level only: the user-facing input type. */
  readonly __input?: Input;
}
