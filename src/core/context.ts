import type { Locale } from '../errors/hints.js';
import type { TransportEvents } from './events.js';
import type { ResolvedConfig } from './config.js';
import type { Route } from './route.js';
import type { Clock } from './clock.js';

/** Everything a strategy may use at creation time. */
export interface StrategyContext {
  locale: Locale;
  /** Time for every decision that depends on it (token expiry, backoff). */
  clock: Clock;
  /** Emits one of the documented transporter events. */
  emit: <K extends keyof TransportEvents>(event: K, payload: TransportEvents[K]) => void;
  /**
   * Builds the route of a nested config (a failover's route `index`) from that config alone:
   * its own retry policy, budget, locale, and logger for the events it emits.
   */
  createRoute: (config: ResolvedConfig, index: number) => Route;
}
