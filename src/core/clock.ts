/**
 * Time as every decision that depends on it reads it: retry backoff and `maxElapsedMs`, token
 * expiry and eager refresh, the token lock's polling and the token endpoint's backoff. One
 * interface, so a test (or a simulation) runs all of them on a clock of its own.
 */
export interface Clock {
  /** Milliseconds since the epoch, as `Date.now()`. */
  now(): number;
  /** Waits `ms`, or less when `signal` aborts (the caller checks it after). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** A number in [0, 1), as `Math.random()`: the jitter of backoff. */
  random(): number;
}

/** The process's own time, on the global timers (which a test may fake). */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: abortableSleep,
  random: () => Math.random(),
};

/** A timer that an abort clears, so an aborted wait leaves nothing behind to keep the process up. */
function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And
 * Jitter"): a random delay in [0, min(maxMs, baseMs * 2^(attempt-1))], so clients that failed
 * together do not retry together.
 */
export function fullJitterDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  return Math.round(random() * Math.min(maxMs, baseMs * 2 ** (attempt - 1)));
}
