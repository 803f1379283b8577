import type { CommonOptions, ResolvedConfig } from '../core/config.js';
import type { Strategy } from './types.js';
import type { GmailTransportConfig } from './index.js';
import { describeType, isPlainObject, type ConfigChecker, type Raw } from '../core/validate.js';
import { FailoverRoute, type FailoverOptions } from '../routes/failover/failover-route.js';

/** A route of a failover: any other strategy's config. */
export type FailoverRouteConfig = Exclude<GmailTransportConfig, { strategy: 'failover' }>;

/**
 * Several routes tried in order: the first that takes the message wins. The next route is
 * tried only when the failed one cannot take mail now (quota, throttling after its own
 * retries, connection or TLS failure, refused credentials or relay), never when the message
 * itself was refused, and never after DELIVERY_UNCERTAIN.
 */
export interface FailoverConfig extends CommonOptions {
  strategy: 'failover';
  /**
   * The routes, in order of preference. Each is a full config of another strategy, retried
   * with its own `retry` policy. The common options given on the failover (`locale`, `retry`,
   * `logger`, `budget`, and the pool options as a group) apply to each route that does not set its own.
   */
  transports: FailoverRouteConfig[];
  /**
   * How long a route that answered QUOTA_EXCEEDED is skipped. Gmail's daily limits lift within
   * 24 hours, on a rolling window, so an hourly probe costs one refused connection an hour.
   * @default 3600000 (1 hour)
   */
  cooldownMs?: number;
}

/** @default for `cooldownMs` */
export const DEFAULT_COOLDOWN_MS = 3_600_000;

const INHERITED_KEYS = ['locale', 'retry', 'logger', 'budget'] as const;
// Inherited together: `maxConnections` alone would be refused on a route that sets `pool: false`.
const POOL_KEYS = ['pool', 'maxConnections', 'maxMessages', 'rateDelta', 'rateLimit'] as const;

export const failover: Strategy<'failover', FailoverConfig, FailoverOptions> = {
  name: 'failover',
  keys: ['transports', 'cooldownMs'],
  retriesEachRoute: true,
  parse(input, check, ctx) {
    const cooldownMs = check.integer(input, 'cooldownMs', { min: 0 }) ?? DEFAULT_COOLDOWN_MS;
    const list = input.transports;
    if (list === undefined) {
      check.fail('transports', 'is required: a list of transport configs, tried in order');
      return undefined;
    }
    if (!Array.isArray(list) || list.length === 0) {
      check.fail(
        'transports',
        Array.isArray(list) ? 'must list at least one transport config' : `must be an array of transport configs, got ${describeType(list)}`,
      );
      return undefined;
    }
    // Array.from visits holes of a sparse array (map skips them, leaving holes in the result).
    const routes: (ResolvedConfig | undefined)[] = Array.from(list as unknown[], (item: unknown, index) => {
      const at = check.at(`transports[${index}]`);
      if (!isPlainObject(item)) {
        check.at('transports').fail(`[${index}]`, `must be a transport config object, got ${describeType(item)}`);
        return undefined;
      }
      if (item.strategy === 'failover') {
        at.fail('strategy', "cannot be 'failover': list the inner failover's routes here instead");
        return undefined;
      }
      if (item.sendLog !== undefined) at.fail('sendLog', 'belongs on the failover itself, which writes one record per message naming the route that decided');
      return ctx.resolveNested(inherit(item, input, check), at);
    });
    if (routes.some((r) => r === undefined)) return undefined;
    return { routes: routes as ResolvedConfig[], cooldownMs };
  },
  create: (options, ctx) => new FailoverRoute(options, ctx),
};

/** The route's own setting wins; a valid one on the failover fills the gap. */
function inherit(item: Raw, parent: Raw, check: ConfigChecker): Raw {
  // An invalid parent value is already reported under its own path; don't report it again per route.
  const valid = (key: string) => {
    const path = check.join(key);
    return parent[key] !== undefined && !check.issues.some((issue) => issue.path === path || issue.path.startsWith(`${path}.`));
  };
  const merged: Raw = { ...item };
  for (const key of INHERITED_KEYS) {
    if (item[key] === undefined && valid(key)) merged[key] = parent[key];
  }
  if (POOL_KEYS.every((key) => item[key] === undefined) && POOL_KEYS.every((key) => parent[key] === undefined || valid(key))) {
    for (const key of POOL_KEYS) if (parent[key] !== undefined) merged[key] = parent[key];
  }
  return merged;
}
