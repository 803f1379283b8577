import { describe, expect, it } from 'vitest';
import { joinMailboxLimiter } from '../../../src/routes/gmail-api/concurrency.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('joinMailboxLimiter', () => {
  it('runs at most the smallest cap of the routes sharing a mailbox, in arrival order', async () => {
    const a = joinMailboxLimiter('base\nshared@example.com', 3);
    const b = joinMailboxLimiter('base\nshared@example.com', 1);
    const gates = [deferred(), deferred(), deferred()];
    const started: number[] = [];
    const runs = gates.map((gate, i) =>
      (i % 2 ? b : a).run(async () => {
        started.push(i);
        await gate.promise;
      }),
    );
    await Promise.resolve();
    expect(started).toEqual([0]);
    expect(a.active).toBe(1);
    gates[0]!.resolve();
    await runs[0];
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    // The stricter route leaves: the cap goes back up to 3 for what is still queued.
    b.release();
    gates[1]!.resolve();
    gates[2]!.resolve();
    await Promise.all(runs);
    expect(started).toEqual([0, 1, 2]);
    a.release();
  });

  it('keeps mailboxes apart', async () => {
    const one = joinMailboxLimiter('base\none@example.com', 1);
    const two = joinMailboxLimiter('base\ntwo@example.com', 1);
    const gate = deferred();
    const first = one.run(() => gate.promise);
    let otherRan = false;
    await two.run(async () => {
      otherRan = true;
    });
    expect(otherRan).toBe(true);
    gate.resolve();
    await first;
    one.release();
    two.release();
  });

  it('a failing task frees its slot', async () => {
    const slot = joinMailboxLimiter('base\nfail@example.com', 1);
    await expect(slot.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(slot.run(() => Promise.resolve(42))).resolves.toBe(42);
    expect(slot.active).toBe(0);
    slot.release();
  });
});
