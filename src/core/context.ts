import type { Locale } from '../errors/hints.js';
import type { TransportEvents } from './events.js';
import type { ResolvedConfig } from './config.js';
import type { Route } from './route.js';

/** Everything a strategy may use at creation time. */
export interface StrategyContext {
  locale: Locale;
  /** Emits one of the documented transporter events. */
  emit: <K extends keyof TransportEvents>(event: K, payload: TransportEvents[K]) => void;
  /** Builds a route for a nested config (failover). */
  createRoute: (config: ResolvedConfig, index: number) => Route;
}
