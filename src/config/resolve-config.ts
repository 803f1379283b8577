import { strategies, type StrategyName, type GmailTransportConfig } from '../strategies/index.js';
import type { Logger } from '../core/logger.js';
import type { ResolvedConfig, RetryOptions } from '../core/config.js';
import { LOCALES, type Locale } from '../errors/hints.js';
import { ConfigChecker, isPlainObject, describeType, type Raw } from '../core/validate.js';
import { parseDkim } from './dkim.js';
import { parseSendLog } from '../send-log/options.js';
import { parseBudgetOption } from '../budget/options.js';

/** Library defaults. Merge order: these, then the strategy's defaults, then the user's options. */
export const DEFAULT_RETRY: Required<RetryOptions> = Object.freeze({
  attempts: 3,
  minDelayMs: 500,
  maxDelayMs: 30_000,
  maxElapsedMs: 120_000,
});

const DEFAULT_POOL = { maxConnections: 5, maxMessages: 100 } as const;

const COMMON_KEYS = [
  'strategy',
  'locale',
  'retry',
  'logger',
  'pool',
  'maxConnections',
  'maxMessages',
  'rateDelta',
  'rateLimit',
  'dkim',
  'sendLog',
  'budget',
] as const;

const STRATEGY_NAMES = Object.keys(strategies) as StrategyName[];

/**
 * Validates a config and returns its frozen, resolved form. Never touches the network.
 *
 * @throws GmailTransportError `CONFIG_INVALID`, listing every problem found by field path.
 */
export function resolveConfig(input: GmailTransportConfig | unknown): ResolvedConfig {
  const check = new ConfigChecker();
  const resolved = resolveInto(input, check);
  const locale = isPlainObject(input) && (LOCALES as readonly unknown[]).includes(input.locale) ? (input.locale as Locale) : 'en';
  // Only a known name goes into the error: an unknown value could be anything, a secret included.
  const strategy = isPlainObject(input) && (STRATEGY_NAMES as readonly unknown[]).includes(input.strategy) ? (input.strategy as string) : undefined;
  check.throwIfAny(strategy, locale);
  return resolved as ResolvedConfig;
}

function resolveInto(input: unknown, check: ConfigChecker): ResolvedConfig | undefined {
  if (!isPlainObject(input)) {
    check.fail(check.prefix ? '' : 'config', `must be an object, got ${describeType(input)}`);
    return undefined;
  }
  const name = check.oneOf(input, 'strategy', STRATEGY_NAMES, { required: true });
  const locale = check.oneOf(input, 'locale', LOCALES) ?? 'en';
  const retry = parseRetry(check, input);
  const logger = parseLogger(check, input);
  const pool = parsePool(check, input);
  // nodemailer signs a message once, before a failover picks its route.
  if (check.prefix && input.dkim !== undefined) check.fail('dkim', 'belongs on the failover config itself: a message is signed before a route is chosen');
  const dkim = check.prefix ? undefined : parseDkim(check, input);
  const sendLog = parseSendLog(check, input);
  const budget = parseBudgetOption(check, input);
  if (!name) return undefined;

  const strategy = strategies[name];
  check.unknownKeys(input, [...COMMON_KEYS, ...strategy.keys]);
  const options = strategy.parse(input, check, { resolveNested: resolveInto });
  if (options === undefined || retry === undefined || (input.budget !== undefined && budget === undefined)) return undefined;
  return Object.freeze({
    strategy: name,
    options: Object.freeze(options),
    locale,
    retry,
    ...(logger ? { logger } : {}),
    ...(pool ? { pool: Object.freeze(pool) } : {}),
    ...(dkim ? { dkim } : {}),
    ...(sendLog ? { sendLog } : {}),
    ...(budget !== undefined ? { budget } : {}),
  });
}

function parseRetry(check: ConfigChecker, input: Raw): Required<RetryOptions> | false | undefined {
  const value = input.retry;
  if (value === undefined) return DEFAULT_RETRY;
  if (value === false) return false;
  const raw = check.object(input, 'retry');
  if (!raw) return undefined;
  const at = check.at('retry');
  at.unknownKeys(raw, ['attempts', 'minDelayMs', 'maxDelayMs', 'maxElapsedMs']);
  const merged = {
    attempts: at.integer(raw, 'attempts', { min: 1, max: 20 }) ?? DEFAULT_RETRY.attempts,
    minDelayMs: at.integer(raw, 'minDelayMs', { min: 0 }) ?? DEFAULT_RETRY.minDelayMs,
    maxDelayMs: at.integer(raw, 'maxDelayMs', { min: 0 }) ?? DEFAULT_RETRY.maxDelayMs,
    maxElapsedMs: at.integer(raw, 'maxElapsedMs', { min: 0 }) ?? DEFAULT_RETRY.maxElapsedMs,
  };
  if (merged.maxDelayMs < merged.minDelayMs) at.fail('maxDelayMs', 'must not be less than minDelayMs');
  return Object.freeze(merged);
}

function parseLogger(check: ConfigChecker, input: Raw): Logger | undefined {
  const value = input.logger;
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null) {
    check.fail('logger', 'must be an object with debug/info/warn/error methods');
    return undefined;
  }
  return value as Logger;
}

function parsePool(check: ConfigChecker, input: Raw): ResolvedConfig['pool'] | undefined {
  const pool = check.boolean(input, 'pool');
  const maxConnections = check.integer(input, 'maxConnections', { min: 1 });
  const maxMessages = check.integer(input, 'maxMessages', { min: 1, allowInfinity: true });
  const rateDelta = check.integer(input, 'rateDelta', { min: 1 });
  const rateLimit = check.integer(input, 'rateLimit', { min: 1 });
  if (!pool) {
    for (const [key, value] of Object.entries({ maxConnections, maxMessages, rateDelta, rateLimit })) {
      if (value !== undefined) check.fail(key, 'only applies with pool: true', 'Add pool: true to keep connections open, or remove the pool options.');
    }
    return undefined;
  }
  return {
    maxConnections: maxConnections ?? DEFAULT_POOL.maxConnections,
    maxMessages: maxMessages ?? DEFAULT_POOL.maxMessages,
    ...(rateDelta !== undefined ? { rateDelta } : {}),
    ...(rateLimit !== undefined ? { rateLimit } : {}),
  };
}
