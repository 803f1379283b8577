import { afterEach, describe, expect, it, vi } from 'vitest';
import { Readable } from 'node:stream';
import { GmailTransportError, type ErrorCode, type TransportEvents } from '../../src/index.js';
import { backoffDelay, isReplayable, noteContentUnread, withRetry, type RetryContext } from '../../src/delivery/retry.js';
import { systemClock, type Clock } from '../../src/core/clock.js';
import { sendOnce, type OutgoingMail, type Route } from '../../src/core/route.js';
import type { RetryOptions } from '../../src/core/config.js';
import type { SentMessageInfo } from 'nodemailer';

const POLICY = { attempts: 3, minDelayMs: 500, maxDelayMs: 30_000, maxElapsedMs: 120_000 };

function mailWith(data: Record<string, unknown> = { text: 'hello' }): OutgoingMail {
  return { data, message: { messageId: () => '<m@test>' } } as unknown as OutgoingMail;
}

function failure(code: ErrorCode, retryable: boolean, extra: Partial<{ retryAfterMs: number; messageId: string }> = {}): GmailTransportError {
  return new GmailTransportError({ code, retryable, message: code, strategy: 'fake', ...extra });
}

/** A route that fails with the given errors in turn, then succeeds; it can move the fake clock. */
function scriptedRoute(failures: GmailTransportError[], onSend?: () => void): Route & { calls: number } {
  const route: Route & { calls: number } = {
    strategy: 'fake',
    calls: 0,
    send(_mail, callback) {
      route.calls++;
      onSend?.();
      const next = failures.shift();
      // Answered asynchronously, as a route that went to the network would be.
      queueMicrotask(() => (next ? callback(next) : callback(null, { messageId: '<m@test>', accepted: ['a@b.c'] } as unknown as SentMessageInfo)));
    },
    verify: async () => true as const,
    close() {},
  };
  return route;
}

type Emit = (event: 'retry', payload: TransportEvents['retry']) => void;

/** Sends once through `route` wrapped with `policy`. */
function sendWithRetry(
  route: Route,
  mail: OutgoingMail,
  policy: Required<RetryOptions> | false,
  emit: Emit,
  runtime: Partial<Clock> & Omit<RetryContext, 'emit' | 'clock'> = {},
): Promise<SentMessageInfo> {
  const { routeIndex, locale, ...time } = runtime;
  const clock: Clock = { ...systemClock, ...time };
  return sendOnce(withRetry(route, policy, { emit, clock, ...(routeIndex !== undefined ? { routeIndex } : {}), ...(locale ? { locale } : {}) }), mail);
}

/** A fake clock and a sleep that advances it, recording each delay. */
function fakeTime() {
  const clock = { now: 1_000_000, slept: [] as number[] };
  return {
    clock,
    runtime: {
      now: () => clock.now,
      sleep: async (ms: number) => {
        clock.slept.push(ms);
        clock.now += ms;
      },
    },
  };
}

describe('backoffDelay (full jitter)', () => {
  it('draws from [0, min(maxDelayMs, minDelayMs * 2^(attempt-1))]', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, POLICY, undefined, () => 1))).toEqual([500, 1000, 2000, 4000]);
    expect(backoffDelay(20, POLICY, undefined, () => 1)).toBe(30_000);
    expect(backoffDelay(3, POLICY, undefined, () => 0)).toBe(0);
    expect(backoffDelay(3, POLICY, undefined, () => 0.25)).toBe(500);
  });

  it('never waits less than the server asked', () => {
    expect(backoffDelay(1, POLICY, 7_000, () => 0.1)).toBe(7_000);
    expect(backoffDelay(5, POLICY, 100, () => 1)).toBe(8_000);
  });
});

describe('withRetry', () => {
  it('retries retryable failures with growing jittered delays, announcing each', async () => {
    const { clock, runtime } = fakeTime();
    const route = scriptedRoute([failure('CONNECTION_FAILED', true, { messageId: '<m@test>' }), failure('RATE_LIMITED', true)]);
    const events: TransportEvents['retry'][] = [];
    const info = await sendWithRetry(route, mailWith(), POLICY, (_e, p) => events.push(p), { ...runtime, random: () => 1, routeIndex: 2 });
    expect(info.messageId).toBe('<m@test>');
    expect(route.calls).toBe(3);
    expect(clock.slept).toEqual([500, 1000]);
    expect(events).toEqual([
      { strategy: 'fake', attempt: 1, delayMs: 500, code: 'CONNECTION_FAILED', messageId: '<m@test>', route: 2 },
      { strategy: 'fake', attempt: 2, delayMs: 1000, code: 'RATE_LIMITED', route: 2 },
    ]);
  });

  it.each<ErrorCode>(['DELIVERY_UNCERTAIN', 'AUTH_INVALID_CREDENTIALS', 'QUOTA_EXCEEDED', 'RECIPIENT_REJECTED'])(
    'does not retry %s (not retryable)',
    async (code) => {
      const { clock, runtime } = fakeTime();
      const route = scriptedRoute([failure(code, false)]);
      const events: unknown[] = [];
      await expect(sendWithRetry(route, mailWith(), POLICY, (_e, p) => events.push(p), runtime)).rejects.toMatchObject({ code });
      expect(route.calls).toBe(1);
      expect(clock.slept).toEqual([]);
      expect(events).toEqual([]);
    },
  );

  it('makes one attempt with retry: false', async () => {
    const route = scriptedRoute([failure('CONNECTION_FAILED', true)]);
    await expect(sendWithRetry(route, mailWith(), false, () => {}, fakeTime().runtime)).rejects.toMatchObject({ code: 'CONNECTION_FAILED', retryable: true });
    expect(route.calls).toBe(1);
  });

  it('stops after `attempts` and rethrows the last error', async () => {
    const route = scriptedRoute(Array.from({ length: 10 }, () => failure('TEMPORARY_FAILURE', true)));
    const err = await sendWithRetry(route, mailWith(), { ...POLICY, attempts: 4 }, () => {}, fakeTime().runtime).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TEMPORARY_FAILURE' });
    expect(route.calls).toBe(4);
  });

  it('answers a first attempt that succeeds in callback style, before any promise is made', () => {
    const info = { messageId: '<m@test>' } as unknown as SentMessageInfo;
    const route: Route = { strategy: 'fake', send: (_mail, callback) => callback(null, info), verify: async () => true, close() {} };
    const got: unknown[] = [];
    withRetry(route, POLICY, { emit: () => {} }).send(mailWith(), (err, sent) => got.push(err, sent));
    // Synchronously: the first attempt is a plain callback through the wrapper.
    expect(got).toEqual([null, info]);
  });

  it('does not retry a failed first attempt that is not retryable, nor any with retry: false', async () => {
    const uncertain = scriptedRoute([failure('DELIVERY_UNCERTAIN', false)]);
    await expect(sendWithRetry(uncertain, mailWith(), POLICY, () => {}, fakeTime().runtime)).rejects.toMatchObject({ code: 'DELIVERY_UNCERTAIN' });
    const lost = scriptedRoute([failure('CONNECTION_FAILED', true)]);
    await expect(sendWithRetry(lost, mailWith(), false, () => {}, fakeTime().runtime)).rejects.toMatchObject({ code: 'CONNECTION_FAILED' });
    expect([uncertain.calls, lost.calls]).toEqual([1, 1]);
  });

  it('counts maxElapsedMs from when the first attempt started', async () => {
    const { clock, runtime } = fakeTime();
    // The first attempt takes 2.5 s: another 1 s wait would start attempt 2 after 3.5 s.
    const route = scriptedRoute([failure('CONNECTION_FAILED', true)], () => {
      clock.now += 2_500;
    });
    const policy = { attempts: 10, minDelayMs: 1000, maxDelayMs: 1000, maxElapsedMs: 3_000 };
    await expect(sendWithRetry(route, mailWith(), policy, () => {}, { ...runtime, random: () => 1 })).rejects.toMatchObject({ code: 'CONNECTION_FAILED' });
    expect(route.calls).toBe(1);
    expect(clock.slept).toEqual([]);
  });

  it('starts no attempt after maxElapsedMs, counting the time the attempts themselves took', async () => {
    const { clock, runtime } = fakeTime();
    // Each attempt takes 400 ms; each delay is 1000 ms (random = 1, min = max = 1000).
    const route = scriptedRoute(
      Array.from({ length: 10 }, () => failure('CONNECTION_FAILED', true)),
      () => {
        clock.now += 400;
      },
    );
    const policy = { attempts: 10, minDelayMs: 1000, maxDelayMs: 1000, maxElapsedMs: 3_000 };
    await expect(sendWithRetry(route, mailWith(), policy, () => {}, { ...runtime, random: () => 1 })).rejects.toMatchObject({ code: 'CONNECTION_FAILED' });
    // t=400 fail, wait to 1400; t=1800 fail, wait to 2800 (2800 <= 3000); t=3200 fail: 3200+1000 > 3000.
    expect(route.calls).toBe(3);
    expect(clock.slept).toEqual([1000, 1000]);
  });

  it('gives a Retry-After longer than maxDelayMs back to the caller instead of waiting', async () => {
    const { clock, runtime } = fakeTime();
    const route = scriptedRoute([failure('RATE_LIMITED', true, { retryAfterMs: 60_000 })]);
    await expect(sendWithRetry(route, mailWith(), POLICY, () => {}, runtime)).rejects.toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 60_000 });
    expect(route.calls).toBe(1);
    expect(clock.slept).toEqual([]);
  });

  it('waits out a Retry-After within bounds', async () => {
    const { clock, runtime } = fakeTime();
    const route = scriptedRoute([failure('RATE_LIMITED', true, { retryAfterMs: 4_000 })]);
    await sendWithRetry(route, mailWith(), POLICY, () => {}, { ...runtime, random: () => 0 });
    expect(clock.slept).toEqual([4_000]);
  });

  describe('with fake timers and the real sleep', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('sleeps the backoff delay through setTimeout, and no longer', async () => {
      vi.useFakeTimers();
      const route = scriptedRoute([failure('CONNECTION_FAILED', true)]);
      const done = vi.fn();
      void sendWithRetry(route, mailWith(), POLICY, () => {}, { random: () => 1 }).then(done);
      await vi.advanceTimersByTimeAsync(499);
      expect(route.calls).toBe(1);
      expect(done).not.toHaveBeenCalled();
      await vi.advanceTimersByTimeAsync(1);
      expect(route.calls).toBe(2);
      expect(done).toHaveBeenCalledOnce();
    });
  });
});

describe('isReplayable', () => {
  it('is true for content that can be composed again', () => {
    expect(isReplayable(mailWith({ text: 'x', html: '<b>x</b>', attachments: [{ content: Buffer.from('x') }, { path: '/tmp/file' }] }))).toBe(true);
  });

  it('is false for stream content, unless the route said the failed attempt never read it', () => {
    const mail = mailWith({ text: 'x', attachments: [{ content: Readable.from(['x']) }] });
    expect(isReplayable(mail)).toBe(false);
    expect(isReplayable(mailWith({ html: Readable.from(['x']) }))).toBe(false);
    expect(isReplayable(mailWith({ raw: { content: Readable.from(['x']) } }))).toBe(false);
    noteContentUnread(mail);
    expect(isReplayable(mail)).toBe(true);
  });

  it('forgets "unread" at each new attempt', async () => {
    const mail = mailWith({ text: Readable.from(['x']) });
    noteContentUnread(mail);
    let calls = 0;
    const route: Route = {
      strategy: 'fake',
      send: (_mail, callback) => {
        calls++;
        queueMicrotask(() => callback(failure('CONNECTION_FAILED', true)));
      },
      verify: async () => true,
      close() {},
    };
    await expect(sendWithRetry(route, mail, POLICY, () => {}, fakeTime().runtime)).rejects.toMatchObject({ code: 'CONNECTION_FAILED' });
    // The first attempt cleared the mark and this route did not set it again: no second attempt.
    expect(calls).toBe(1);
  });
});
