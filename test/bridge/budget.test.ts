import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { GmailTransportConfig } from '../../src/index.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../helpers/scripted-upstream.js';
import { messageLogs, startBridge, type RunningBridge } from '../helpers/bridge.js';
import { printerSend, scanMessage } from '../helpers/printer.js';

const APP_PASSWORD = 'fakebridgebudgetq';

describe('bridge with an upstream sending budget', () => {
  let upstream: ScriptedUpstream;
  const running: RunningBridge[] = [];
  beforeAll(async () => {
    upstream = await startScriptedUpstream();
  });
  afterEach(async () => {
    while (running.length) await running.pop()!.close();
  });
  afterAll(() => upstream.close());

  async function bridgeFor(user: string, budget: Record<string, unknown>): Promise<RunningBridge> {
    const b = await startBridge({
      allowNetworks: ['127.0.0.1'],
      upstream: {
        strategy: 'app-password',
        user,
        appPassword: APP_PASSWORD.slice(0, 16),
        smtp: { host: '127.0.0.1', port: upstream.port, secure: true, tls: { ca: [upstream.cert] } },
        budget,
      } as GmailTransportConfig,
    });
    running.push(b);
    return b;
  }
  const scan = (b: RunningBridge, from: string, to = ['alice@example.com']) =>
    printerSend(b.port, { from, to, message: scanMessage({ from, to: to.join(', ') }) });

  it('answers 451 4.4.5 once the budget is used up (the device keeps the scan), logs it deferred, and its status shows used and left', async () => {
    const user = `bridge-budget-${process.pid}@example.com`;
    const b = await bridgeFor(user, { messagesPerDay: 2 });
    expect((await b.bridge.status()).budget).toEqual([
      expect.objectContaining({
        mailbox: user,
        strategy: 'app-password',
        messages: { used: 0, limit: 2, left: 2 },
        recipients: { used: 0, limit: 10_000, left: 10_000 },
      }),
    ]);
    const before = upstream.accepted.length;
    expect((await scan(b, user)).final).toMatch(/^250 /);
    expect((await scan(b, user)).final).toMatch(/^250 /);
    const third = await scan(b, user);
    expect(third.final).toMatch(/^451 4\.4\.5 /);
    expect(upstream.accepted.length - before).toBe(2);
    expect(messageLogs(b.logs).at(-1)).toMatchObject({ outcome: 'deferred', reply: '451 4.4.5', upstreamCode: 'QUOTA_EXCEEDED' });
    // The operator saw the budget run low once (80% of 2 is the second message).
    expect(b.logs.filter((l) => l.record.event === 'budget-low')).toHaveLength(1);
    const status = await b.bridge.status();
    expect(status.upstream).toBe('app-password');
    expect(status.addresses.map((a) => a.port)).toContain(b.port);
    expect(status.budget).toEqual([
      expect.objectContaining({ messages: { used: 2, limit: 2, left: 0 }, recipients: { used: 2, limit: 10_000, left: 9_998 }, store: 'memory' }),
    ]);
    for (const log of b.logs) expect(log.line).not.toContain(APP_PASSWORD.slice(0, 16));
  });

  it('refuses a message with more recipients than the upstream takes with 550 5.1.3 (MESSAGE_INVALID), without sending it', async () => {
    const user = `bridge-rcpt-${process.pid}@example.com`;
    const b = await bridgeFor(user, { recipientsPerMessage: 2 });
    const before = upstream.accepted.length;
    const reply = await scan(b, user, ['a@example.com', 'b@example.com', 'c@example.com']);
    expect(reply.final).toMatch(/^550 5\.1\.3 .*too many recipients/);
    expect(upstream.accepted.length).toBe(before);
    expect(messageLogs(b.logs).at(-1)).toMatchObject({ outcome: 'rejected', upstreamCode: 'MESSAGE_INVALID' });
  });

  it('with budget: false the status lists no budget', async () => {
    const b = await bridgeFor(`bridge-off-${process.pid}@example.com`, false as never);
    expect((await b.bridge.status()).budget).toEqual([]);
  });
});
