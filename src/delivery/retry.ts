import type { SentMessageInfo } from 'nodemailer';
import type { RetryOptions } from '../core/config.js';
import type { TransportEvents } from '../core/events.js';
import { isGmailTransportError, type GmailTransportError } from '../errors/error.js';
import { mapError } from '../errors/map-error.js';
import type { OutgoingMail, Route } from '../core/route.js';
import type { Locale } from '../errors/hints.js';
import { abortError, abortableSleep, signalOf } from './abort.js';
import { noteAttempt } from '../send-log/trace.js';

/** Waits `ms`, or less when `signal` aborts (the caller checks it after). */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** Clock, sleep and randomness, injectable so tests run backoff without real waits. */
export interface RetryRuntime {
  sleep?: Sleep;
  now?: () => number;
  random?: () => number;
}

const realSleep: Sleep = abortableSleep;

/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And
 * Jitter"): a random delay in [0, min(maxDelayMs, minDelayMs * 2^(attempt-1))], so clients that
 * failed together do not retry together. Never shorter than what the server asked for.
 */
export function backoffDelay(attempt: number, policy: Required<RetryOptions>, retryAfterMs?: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.minDelayMs * 2 ** (attempt - 1));
  const jittered = Math.round(random() * ceiling);
  return retryAfterMs !== undefined ? Math.max(jittered, retryAfterMs) : jittered;
}

// Messages whose last failed attempt never started reading their content (the route says so):
// a stream in them is still intact.
const contentUnread = new WeakSet<object>();

/** Called by a route whose failed attempt never started reading the message content. */
export function noteContentUnread(mail: OutgoingMail): void {
  contentUnread.add(mail);
}

/**
 * Whether the message can be composed again for another attempt. A stream given as content
 * (text, html, raw, an attachment) is consumed once read; such a message is retried only if
 * the failed attempt never started reading it (the error stays `retryable`, so the caller can
 * resend it with fresh streams).
 */
export function isReplayable(mail: OutgoingMail): boolean {
  if (contentUnread.has(mail)) return true;
  const data = mail.data as Record<string, unknown>;
  const contents: unknown[] = [data.text, data.html, data.amp, data.watchHtml, data.raw];
  for (const list of [data.attachments, data.alternatives]) {
    if (Array.isArray(list)) for (const item of list) contents.push((item as { content?: unknown } | undefined)?.content);
  }
  contents.push((data.icalEvent as { content?: unknown } | undefined)?.content);
  return !contents.some((c) => isStream(c) || isStream((c as { content?: unknown } | undefined)?.content));
}

function isStream(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { pipe?: unknown }).pipe === 'function';
}

/** A first attempt the caller made itself (through `Route.deliver`), and how it failed. */
export interface FailedAttempt {
  readonly error: unknown;
  /** When that attempt started (the clock of `maxElapsedMs`). */
  readonly startedAt: number;
}

/**
 * Forgets what an earlier attempt said about the message's content; call before each attempt.
 * A route that retries inside (a failover) counts its own routes' attempts, not this one.
 */
export function startAttempt(mail: OutgoingMail, route: Route): void {
  contentUnread.delete(mail);
  if (!route.retriesInside) noteAttempt(mail);
}

/**
 * Sends through a route, retrying only failures after which the message cannot have been
 * accepted: the mapper marks those `retryable` (connect, TLS handshake and greeting failures,
 * 4xx replies, a connection lost before the final dot), and DELIVERY_UNCERTAIN never is.
 * Bounded by `attempts` and by `maxElapsedMs` (no attempt starts later than that after the
 * first); each retry is announced with a `retry` event before its delay.
 *
 * With `runtime.firstAttempt`, the caller made attempt 1 itself and it failed: the loop starts
 * by deciding on that error.
 *
 * @throws GmailTransportError the last attempt's error.
 */
export async function sendWithRetry(
  route: Route,
  mail: OutgoingMail,
  policy: Required<RetryOptions> | false,
  emit: (event: 'retry', payload: TransportEvents['retry']) => void,
  runtime: RetryRuntime & { routeIndex?: number; locale?: Locale; firstAttempt?: FailedAttempt } = {},
): Promise<SentMessageInfo> {
  const sleep = runtime.sleep ?? realSleep;
  const now = runtime.now ?? Date.now;
  const started = runtime.firstAttempt?.startedAt ?? now();
  const signal = signalOf(mail);
  for (let attempt = 1; ; attempt++) {
    try {
      if (attempt === 1 && runtime.firstAttempt) throw runtime.firstAttempt.error;
      startAttempt(mail, route);
      return await route.send(mail);
    } catch (thrown) {
      const err: GmailTransportError = isGmailTransportError(thrown) ? thrown : mapError(thrown, { strategy: route.strategy });
      if (!policy || !err.retryable || attempt >= policy.attempts || !isReplayable(mail)) throw err;
      const delayMs = backoffDelay(attempt, policy, err.retryAfterMs, runtime.random);
      // A server that asks for a longer wait than we would ever make gets the error back, with
      // its retryAfterMs, for the caller to schedule.
      if (err.retryAfterMs !== undefined && delayMs > policy.maxDelayMs) throw err;
      if (now() - started + delayMs > policy.maxElapsedMs) throw err;
      emit('retry', {
        strategy: err.strategy ?? route.strategy,
        attempt,
        delayMs,
        code: err.code,
        ...(err.messageId ? { messageId: err.messageId } : {}),
        ...(runtime.routeIndex !== undefined ? { route: runtime.routeIndex } : {}),
      });
      await sleep(delayMs, signal);
      // Aborted while waiting: the failed attempt left nothing accepted, and none follows.
      if (signal?.aborted) throw abortError(signal, { strategy: err.strategy ?? route.strategy, ...(runtime.locale ? { locale: runtime.locale } : {}), ...(err.messageId ? { messageId: err.messageId } : {}) });
    }
  }
}
