import { describe, expect, it } from 'vitest';
import type { SentMessageInfo } from 'nodemailer';
import { DeferredRoute } from '../../src/routes/deferred-route.js';
import { sendOnce, type OutgoingMail, type Route, type SendCallback } from '../../src/core/route.js';

/** A route that records what it was asked, with sends that finish when the test says. */
class RecordingRoute implements Route {
  readonly strategy = 'recording';
  readonly calls: string[] = [];
  readonly pending: Array<() => void> = [];
  idleListeners: Array<() => void> = [];

  send(mail: OutgoingMail, callback: SendCallback): void {
    this.calls.push(`send ${String(mail.data.subject)}`);
    this.pending.push(() => callback(null, { messageId: String(mail.data.subject) } as SentMessageInfo));
  }

  async verify(): Promise<true> {
    this.calls.push('verify');
    return true;
  }

  close(): void {
    this.calls.push('close');
  }

  isIdle(): boolean {
    return this.pending.length === 0;
  }

  onIdle(listener: () => void): void {
    this.idleListeners.push(listener);
  }

  finishAll(): void {
    for (const finish of this.pending.splice(0)) finish();
  }
}

const mail = (subject: string) => ({ data: { subject } }) as unknown as OutgoingMail;

/** A load the test lets through, or fails, when it chooses. */
function gate(): { load: () => Promise<Route>; release: (route: Route) => void; fail: (err: Error) => void; loads: number } {
  const state = {
    loads: 0,
    release: (_route: Route) => undefined as void,
    fail: (_err: Error) => undefined as void,
    load: () => {
      state.loads++;
      return new Promise<Route>((resolve, reject) => {
        state.release = resolve;
        state.fail = reject;
      });
    },
  };
  return state;
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('DeferredRoute', () => {
  it('starts loading when created; calls made before the load lands wait for it, in order', async () => {
    const g = gate();
    const route = new DeferredRoute('recording', g.load);
    expect(g.loads).toBe(1);
    const first = sendOnce(route, mail('one'));
    const verified = route.verify();
    const second = sendOnce(route, mail('two'));
    expect(route.isIdle()).toBe(false);
    const inner = new RecordingRoute();
    g.release(inner);
    await expect(verified).resolves.toBe(true);
    expect(inner.calls).toEqual(['send one', 'verify', 'send two']);
    expect(route.isIdle()).toBe(false); // the sends are in flight inside the route now
    inner.finishAll();
    await expect(Promise.all([first, second])).resolves.toMatchObject([{ messageId: 'one' }, { messageId: 'two' }]);
    expect(route.isIdle()).toBe(true);
    expect(g.loads).toBe(1);
  });

  it('is idle before anything is sent, and forwards idle listeners registered before the load', async () => {
    const g = gate();
    const route = new DeferredRoute('recording', g.load);
    expect(route.isIdle()).toBe(true);
    const heard: string[] = [];
    route.onIdle(() => heard.push('idle'));
    const inner = new RecordingRoute();
    g.release(inner);
    await route.verify();
    expect(inner.idleListeners).toHaveLength(1);
    inner.idleListeners[0]!();
    expect(heard).toEqual(['idle']);
  });

  it('close() while calls wait for the load: they still run, and the route closes behind them', async () => {
    const g = gate();
    const route = new DeferredRoute('recording', g.load);
    const sent = sendOnce(route, mail('waiting'));
    route.close();
    const inner = new RecordingRoute();
    g.release(inner);
    await tick();
    expect(inner.calls).toEqual(['send waiting', 'close']);
    inner.finishAll();
    await expect(sent).resolves.toMatchObject({ messageId: 'waiting' });
  });

  it('close() with nothing waiting closes nothing, and the transporter stays usable', async () => {
    const g = gate();
    const route = new DeferredRoute('recording', g.load);
    route.close();
    const inner = new RecordingRoute();
    g.release(inner);
    await route.verify();
    expect(inner.calls).toEqual(['verify']);
    route.close();
    expect(inner.calls).toEqual(['verify', 'close']);
  });

  it('a failed load rejects the calls waiting for it, without an unhandled rejection, and the next call loads again', async () => {
    const g = gate();
    const route = new DeferredRoute('recording', g.load);
    const waiting = sendOnce(route, mail('lost'));
    g.fail(new Error('chunk missing'));
    // Reported as every route reports: a GmailTransportError, the load's error as its cause.
    await expect(waiting).rejects.toMatchObject({ code: 'UNKNOWN', cause: expect.objectContaining({ message: 'chunk missing' }) });
    expect(route.isIdle()).toBe(true);
    const retried = route.verify();
    expect(g.loads).toBe(2);
    const inner = new RecordingRoute();
    g.release(inner);
    await expect(retried).resolves.toBe(true);
  });
});
