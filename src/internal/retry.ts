import type { SentMessageInfo } from 'nodemailer';
import type { RetryOptions } from '../strategies/types.js';
import type { TransportEvents } from '../events.js';
import { isGmailTransportError, type GmailTransportError } from '../errors.js';
import { mapError } from '../errors/map-error.js';
import type { OutgoingMail, Route } from './route.js';

export type Sleep = (ms: number) => Promise<void>;

const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And
 * Jitter"): a random delay in [0, min(max, base * 2^(attempt-1))], never shorter than what the
 * server asked for with Retry-After.
 */
export function backoffDelay(attempt: number, policy: Required<RetryOptions>, retryAfterMs?: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.minDelayMs * 2 ** (attempt - 1));
  const jittered = Math.round(random() * ceiling);
  return retryAfterMs !== undefined ? Math.max(jittered, retryAfterMs) : jittered;
}

/**
 * Whether the message can be composed again for another attempt. A stream given as content
 * (text, html, raw, an attachment) is consumed by the first attempt; its message is not retried
 * (the error stays `retryable`, so the caller can resend it with fresh streams).
 */
export function isReplayable(mail: OutgoingMail): boolean {
  const data = mail.data as Record<string, unknown>;
  const contents: unknown[] = [data.text, data.html, data.amp, data.watchHtml, data.raw];
  for (const list of [data.attachments, data.alternatives]) {
    if (Array.isArray(list)) for (const item of list) contents.push((item as { content?: unknown } | undefined)?.content);
  }
  contents.push((data.icalEvent as { content?: unknown } | undefined)?.content);
  return !contents.some(isStream) && !contents.some((c) => isStream((c as { content?: unknown } | undefined)?.content));
}

function isStream(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { pipe?: unknown }).pipe === 'function';
}

/**
 * Sends through a route, retrying only failures after which the message cannot have been
 * accepted (the route marks those `retryable`; DELIVERY_UNCERTAIN never is). Bounded by
 * `attempts` and `maxElapsedMs`; each retry is announced with a `retry` event.
 */
export async function sendWithRetry(
  route: Route,
  mail: OutgoingMail,
  policy: Required<RetryOptions> | false,
  emit: (event: 'retry', payload: TransportEvents['retry']) => void,
  sleep: Sleep = realSleep,
): Promise<SentMessageInfo> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await route.send(mail);
    } catch (thrown) {
      const err: GmailTransportError = isGmailTransportError(thrown) ? thrown : mapError(thrown, { strategy: route.strategy });
      if (!policy || !err.retryable || attempt >= policy.attempts || !isReplayable(mail)) throw err;
      const delayMs = backoffDelay(attempt, policy, err.retryAfterMs);
      if (delayMs > policy.maxDelayMs && err.retryAfterMs !== undefined) throw err;
      if (Date.now() - started + delayMs > policy.maxElapsedMs) throw err;
      emit('retry', { strategy: err.strategy ?? route.strategy, attempt, delayMs, code: err.code, ...(err.messageId ? { messageId: err.messageId } : {}) });
      await sleep(delayMs);
    }
  }
}
