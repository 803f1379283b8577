import { isTokenStoreLike } from '../tokens/recognize.js';
import { describeType, type ConfigChecker, type Raw } from '../core/validate.js';
import type { BudgetOptions } from '../core/budget.js';

const LIMIT_KEYS = ['messagesPerDay', 'recipientsPerDay', 'recipientsPerMessage'] as const;

/**
 * Validates the `budget` option: `false`, or limits (positive integers or `Infinity`) and a
 * store. `undefined` when absent (the route's defaults apply) and when invalid (reported to `check`).
 */
export function parseBudgetOption(check: ConfigChecker, input: Raw): Readonly<BudgetOptions> | false | undefined {
  const value = input.budget;
  if (value === undefined || value === false) return value;
  const raw = check.object(input, 'budget');
  if (!raw) return undefined;
  const at = check.at('budget');
  at.unknownKeys(raw, [...LIMIT_KEYS, 'store']);
  const options: BudgetOptions = {};
  let ok = true;
  for (const key of LIMIT_KEYS) {
    const limit = at.integer(raw, key, { min: 1, allowInfinity: true });
    if (limit !== undefined) options[key] = limit;
    else if (raw[key] !== undefined) ok = false;
  }
  if (raw.store !== undefined) {
    if (isTokenStoreLike(raw.store)) options.store = raw.store;
    else {
      at.fail('store', `must be a Keyv instance or an object with get, set and delete, got ${describeType(raw.store)}`);
      ok = false;
    }
  }
  return ok ? Object.freeze(options) : undefined;
}
