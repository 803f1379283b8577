/** Thrown by {@link withTimeout} when the bound passes first. */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
  readonly code = 'ETIMEDOUT';
}

/**
 * Resolves as `work` does, or rejects with a TimeoutError after `ms`. The work is abandoned,
 * not cancelled: its late result is ignored. Uses the global timers, so tests can fake them.
 */
export function withTimeout<T>(work: Promise<T> | T, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new TimeoutError(`${what} did not answer within ${ms} ms`)), ms);
    Promise.resolve(work).then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/** A short, secret-free description of a thrown value: its name and code, never its message. */
export function describeFailure(err: unknown): string {
  if (err instanceof TimeoutError) return 'timed out';
  if (typeof err !== 'object' || err === null) return typeof err;
  const { name, code } = err as { name?: unknown; code?: unknown };
  const parts = [typeof name === 'string' ? name : 'Error', typeof code === 'string' || typeof code === 'number' ? String(code) : ''];
  return parts.filter(Boolean).join(' ');
}
