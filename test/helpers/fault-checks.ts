/**
 * Process-level checks for fault tests: nothing escapes as an unhandled rejection or an
 * uncaught exception, and nothing is left running (sockets, timers) once a transport is closed.
 */

/** Counts of the resources keeping the event loop alive, by type (`TCPSocketWrap`, `Timeout`, …). */
export function activeResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

/** The resources present now beyond `baseline`, e.g. `['TCPSocketWrap +1']`. */
export function resourcesBeyond(baseline: Map<string, number>): string[] {
  const extra: string[] = [];
  for (const [type, count] of activeResources()) {
    const before = baseline.get(type) ?? 0;
    if (count > before) extra.push(`${type} +${count - before}`);
  }
  return extra;
}

/**
 * Resolves with the resources still beyond `baseline` once there are none, or when `withinMs`
 * has passed: a closed socket releases its handle a few event-loop turns after `close()`, so
 * this waits for that to happen (checking on every timer turn), not for a fixed time.
 */
export async function leftoverResources(baseline: Map<string, number>, withinMs = 2_000): Promise<string[]> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const extra = resourcesBeyond(baseline);
    if (extra.length === 0 || Date.now() >= deadline) return extra;
    await new Promise<void>((resolve) => setTimeout(resolve, 5).unref());
  }
}

/** Records every unhandled rejection and uncaught exception until `stop()`. */
export function watchEscapes(): { readonly escaped: unknown[]; stop(): void } {
  const escaped: unknown[] = [];
  const onRejection = (reason: unknown): void => {
    escaped.push(reason);
  };
  const onException = (err: unknown): void => {
    escaped.push(err);
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return {
    escaped,
    stop() {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
    },
  };
}

/** A short description of escaped errors for a failing assertion. */
export function describeEscapes(escaped: readonly unknown[]): string[] {
  return escaped.map((e) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e)));
}
