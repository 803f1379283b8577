import { GmailTransportError, type GmailTransportErrorOptions } from './error.js';

/** The same error, marked with the failover route (its index in `transports`) that raised it. */
export function withRoute(error: GmailTransportError, route: number): GmailTransportError {
  if (error.route === route) return error;
  const options: GmailTransportErrorOptions = {
    code: error.code,
    message: error.message,
    retryable: error.retryable,
    route,
    cause: error.cause,
  };
  for (const key of [
    'hint',
    'strategy',
    'phase',
    'responseCode',
    'enhancedCode',
    'response',
    'httpStatus',
    'reason',
    'messageId',
    'retryAfterMs',
    'issues',
    'errors',
  ] as const) {
    if (error[key] !== undefined) (options as unknown as Record<string, unknown>)[key] = error[key];
  }
  return new GmailTransportError(options);
}

/**
 * The error of a failover that ran out of routes. `errors` holds each route's error in order
 * (a route skipped while cooling down after QUOTA_EXCEEDED contributes the error that started
 * its cool-down). Its `code`, `retryable`, `phase` and `hint` are those of the last route whose
 * failure may pass with time (`retryable`), or else of the last route: a caller that schedules
 * on `retryable` retries when some route may take the message later, and gives up only when
 * none will.
 */
export function allRoutesFailed(errors: readonly GmailTransportError[], options: { retryAfterMs?: number; messageId?: string } = {}): GmailTransportError {
  const representative = errors.findLast((e) => e.retryable) ?? errors.at(-1);
  if (!representative) throw new RangeError('allRoutesFailed needs at least one route error');
  const summary = errors.map((e) => `route ${e.route ?? '?'} (${e.strategy ?? 'unknown'}): ${e.code}`).join('; ');
  return new GmailTransportError({
    code: representative.code,
    retryable: representative.retryable,
    message: `Every failover route failed: ${summary}`,
    strategy: 'failover',
    errors,
    cause: representative,
    ...(representative.hint ? { hint: representative.hint } : {}),
    ...(representative.phase ? { phase: representative.phase } : {}),
    ...(representative.route !== undefined ? { route: representative.route } : {}),
    ...(options.retryAfterMs !== undefined ? { retryAfterMs: options.retryAfterMs } : {}),
    ...(options.messageId ? { messageId: options.messageId } : {}),
  });
}
