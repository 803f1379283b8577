import type { SentMessageInfo } from 'nodemailer';
import type { RetryOptions } from '../core/config.js';
import type { TransportEvents } from '../core/events.js';
import { isGmailTransportError, type GmailTransportError } from '../errors/error.js';
import { mapError } from '../errors/map-error.js';
import { RouteWrapper, sendOnce, type OutgoingMail, type Route, type SendCallback } from '../core/route.js';
import type { Locale } from '../errors/hints.js';
import { abortError, signalOf } from './abort.js';
import { fullJitterDelay, systemClock, type Clock } from '../core/clock.js';
import { noteAttempt } from '../send-log/trace.js';

/**
 * The retry delay before attempt `attempt + 1`: full-jitter backoff (see fullJitterDelay), never
 * shorter than what the server asked for.
 */
export function backoffDelay(attempt: number, policy: Required<RetryOptions>, retryAfterMs?: number, random: () => number = Math.random): number {
  const jittered = fullJitterDelay(attempt, policy.minDelayMs, policy.maxDelayMs, random);
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

/** Where a retry wrapper reports, and in what language its own errors speak. */
export interface RetryContext {
  /** The `retry` event, announced before each delay. */
  emit: (event: 'retry', payload: TransportEvents['retry']) => void;
  locale?: Locale;
  /** The failover route this is, for the `route` field of its events. */
  routeIndex?: number;
  /** @default systemClock */
  clock?: Clock;
}

/**
 * The route retried with `policy`: each failure after which the message cannot have been
 * accepted (the mapper marks those `retryable`: connect, TLS handshake and greeting failures,
 * 4xx replies, a connection lost before the final dot) is tried again, and DELIVERY_UNCERTAIN
 * never is. Bounded by `attempts` and by `maxElapsedMs` (no attempt starts later than that after
 * the first); each retry is announced with a `retry` event before its delay. With `false`, one
 * attempt. Every attempt is counted for the send log.
 */
export function withRetry(route: Route, policy: Required<RetryOptions> | false, context: RetryContext): Route {
  return new RetryingRoute(route, policy, context);
}

class RetryingRoute extends RouteWrapper {
  readonly #policy: Required<RetryOptions> | false;
  readonly #context: RetryContext;
  readonly #clock: Clock;

  constructor(route: Route, policy: Required<RetryOptions> | false, context: RetryContext) {
    super(route);
    this.#policy = policy;
    this.#context = context;
    this.#clock = context.clock ?? systemClock;
  }

  /**
   * The first attempt goes through in callback style with no promise around it (see Route);
   * only a failure builds the retry loop, which decides on that error as its attempt 1.
   */
  send(mail: OutgoingMail, callback: SendCallback): void {
    const startedAt = this.#clock.now();
    startAttempt(mail);
    this.inner.send(mail, (err, info) => {
      if (!err) {
        callback(null, info);
        return;
      }
      if (!this.#policy || !err.retryable) {
        callback(err);
        return;
      }
      this.#retry(mail, err, startedAt, this.#policy).then(
        (sent) => callback(null, sent),
        (failed: unknown) => callback(this.#map(failed)),
      );
    });
  }

  async #retry(mail: OutgoingMail, first: GmailTransportError, started: number, policy: Required<RetryOptions>): Promise<SentMessageInfo> {
    const { emit, locale, routeIndex } = this.#context;
    const clock = this.#clock;
    const signal = signalOf(mail);
    let err = first;
    for (let attempt = 1; ; attempt++) {
      if (!err.retryable || attempt >= policy.attempts || !isReplayable(mail)) throw err;
      const delayMs = backoffDelay(attempt, policy, err.retryAfterMs, () => clock.random());
      // A server that asks for a longer wait than we would ever make gets the error back, with
      // its retryAfterMs, for the caller to schedule.
      if (err.retryAfterMs !== undefined && delayMs > policy.maxDelayMs) throw err;
      if (this.#clock.now() - started + delayMs > policy.maxElapsedMs) throw err;
      const strategy = err.strategy ?? this.strategy;
      emit('retry', {
        strategy,
        attempt,
        delayMs,
        code: err.code,
        ...(err.messageId ? { messageId: err.messageId } : {}),
        ...(routeIndex !== undefined ? { route: routeIndex } : {}),
      });
      await clock.sleep(delayMs, signal);
      // Aborted while waiting: the failed attempt left nothing accepted, and none follows.
      if (signal?.aborted) throw abortError(signal, { strategy, ...(locale ? { locale } : {}), ...(err.messageId ? { messageId: err.messageId } : {}) });
      try {
        startAttempt(mail);
        return await sendOnce(this.inner, mail);
      } catch (thrown) {
        err = this.#map(thrown);
      }
    }
  }

  #map(thrown: unknown): GmailTransportError {
    return isGmailTransportError(thrown)
      ? thrown
      : mapError(thrown, { strategy: this.strategy, ...(this.#context.locale ? { locale: this.#context.locale } : {}) });
  }
}

/** Forgets what an earlier attempt said about the message's content, and counts the attempt. */
function startAttempt(mail: OutgoingMail): void {
  contentUnread.delete(mail);
  noteAttempt(mail);
}
