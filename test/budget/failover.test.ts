import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createGmailTransport, isGmailTransportError, type GmailTransportError, type TransportEvents } from '../../src/index.js';
import { startRecordingServer, type RecordingServer } from '../helpers/smtp-server.js';
import { localSmtp } from '../helpers/oauth-fixtures.js';

const DAY_MS = 24 * 60 * 60 * 1000;
let serial = 0;
const mailbox = () => `failover-budget-${process.pid}-${++serial}@example.com`;

describe('failover with a sending budget on its first route', () => {
  let gmail: RecordingServer;
  let relay: RecordingServer;
  beforeAll(async () => {
    gmail = await startRecordingServer({ secure: true });
    relay = await startRecordingServer({ secure: true });
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  afterAll(async () => {
    await gmail.close();
    await relay.close();
  });

  function transport(user: string, budget: Record<string, unknown>) {
    const mailer = createGmailTransport({
      strategy: 'failover',
      retry: false,
      transports: [
        { strategy: 'app-password', user, appPassword: 'fakefailoverpwqz', smtp: localSmtp(gmail), budget },
        { strategy: 'relay', host: '127.0.0.1', port: relay.port, secure: true, smtp: { tls: { ca: [relay.cert] } } },
      ],
    });
    const events: Array<{ name: string; payload: TransportEvents['failover'] | TransportEvents['delivered'] }> = [];
    mailer.on('failover', (payload) => events.push({ name: 'failover', payload }));
    mailer.on('delivered', (payload) => events.push({ name: 'delivered', payload }));
    return { mailer, events };
  }

  it("moves on when the first route's budget is spent, without connecting to it, and comes back when the window frees (faked clock)", async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const t0 = Date.parse('2026-03-02T09:00:00Z');
    vi.setSystemTime(t0);
    const user = mailbox();
    const { mailer, events } = transport(user, { messagesPerDay: 1 });
    const send = () => mailer.sendMail({ from: user, to: 'you@example.com', subject: 'Failover budget', text: 'x' });
    const at = { gmail: gmail.messages.length, relay: relay.messages.length };

    await send();
    expect(gmail.messages.length - at.gmail).toBe(1);
    const gmailConnections = gmail.connections;

    vi.setSystemTime(t0 + 60_000);
    await send();
    expect(relay.messages.length - at.relay).toBe(1);
    expect(gmail.connections).toBe(gmailConnections);
    const failover = events.find((e) => e.name === 'failover')?.payload as TransportEvents['failover'];
    expect(failover).toMatchObject({ from: 0, to: 1, code: 'QUOTA_EXCEEDED' });
    expect(events.at(-1)).toMatchObject({ name: 'delivered', payload: { route: 1, failedOver: true } });

    // Still spent an hour later: the relay again, and the first route is not tried.
    vi.setSystemTime(t0 + 60 * 60_000);
    await send();
    expect(relay.messages.length - at.relay).toBe(2);
    expect(gmail.connections).toBe(gmailConnections);

    const status = await mailer.budgetStatus();
    expect(status).toEqual([expect.objectContaining({ route: 0, mailbox: user, strategy: 'app-password', messages: { used: 1, limit: 1, left: 0 } })]);

    // 24 hours after the first message, its slot is free: the first route takes mail again.
    vi.setSystemTime(t0 + DAY_MS);
    await send();
    expect(gmail.messages.length - at.gmail).toBe(2);
    expect(events.at(-1)).toMatchObject({ name: 'delivered', payload: { route: 0, failedOver: false } });
    mailer.close();
  });

  it('a budget that frees sooner than the cool-down is tried again as soon as it frees', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const t0 = Date.parse('2026-03-04T09:00:00Z');
    vi.setSystemTime(t0);
    const user = mailbox();
    const { mailer } = transport(user, { messagesPerDay: 1 });
    const send = () => mailer.sendMail({ from: user, to: 'you@example.com', subject: 'x', text: 'x' });
    const at = { gmail: gmail.messages.length, relay: relay.messages.length };
    await send();
    // Ten minutes before the slot frees: the relay takes this one.
    vi.setSystemTime(t0 + DAY_MS - 10 * 60_000);
    await send();
    expect(relay.messages.length - at.relay).toBe(1);
    // The default cool-down is an hour; the budget frees in ten minutes, and the route is back then.
    vi.setSystemTime(t0 + DAY_MS);
    await send();
    expect(gmail.messages.length - at.gmail).toBe(2);
    mailer.close();
  });

  it('when every route is out of budget, the error is retryable and says when the first one frees', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const t0 = Date.parse('2026-03-03T09:00:00Z');
    vi.setSystemTime(t0);
    const user = mailbox();
    const mailer = createGmailTransport({
      strategy: 'failover',
      retry: false,
      transports: [
        { strategy: 'app-password', user, appPassword: 'fakefailoverpwqz', smtp: localSmtp(gmail), budget: { messagesPerDay: 1 } },
        { strategy: 'relay', host: '127.0.0.1', port: relay.port, secure: true, smtp: { tls: { ca: [relay.cert] } }, budget: { messagesPerDay: 1 } },
      ],
    });
    const send = () => mailer.sendMail({ from: user, to: 'you@example.com', subject: 'x', text: 'x' });
    await send();
    vi.setSystemTime(t0 + 2 * 60 * 60_000);
    await send();
    vi.setSystemTime(t0 + 3 * 60 * 60_000);
    let err: GmailTransportError | undefined;
    await send().catch((e: unknown) => {
      if (isGmailTransportError(e)) err = e;
    });
    mailer.close();
    expect(err).toMatchObject({ code: 'QUOTA_EXCEEDED', retryable: true, phase: 'budget', strategy: 'failover' });
    expect(err?.errors?.map((e) => [e.route, e.phase])).toEqual([
      [0, 'budget'],
      [1, 'budget'],
    ]);
    // Route 0's message leaves the window 21 hours from now; its cool-down (1 hour) ends sooner.
    expect(err?.retryAfterMs).toBe(60 * 60_000);
  });

  it('a message with more recipients than the first route allows (recipientsPerMessage) is MESSAGE_INVALID, sent by no route, and cools no route down', async () => {
    const user = mailbox();
    const { mailer } = transport(user, {});
    const many = Array.from({ length: 120 }, (_, i) => `r${i}@example.com`);
    const connections = gmail.connections;
    const before = relay.messages.length;
    const err = await mailer.sendMail({ from: user, to: many, subject: 'x', text: 'x' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    // A message problem: failover does not move on (another route would not make it right).
    expect(err).toMatchObject({ code: 'MESSAGE_INVALID', phase: 'message', retryable: false });
    expect(relay.messages.length).toBe(before);
    expect(gmail.connections).toBe(connections);
    const gmailBefore = gmail.messages.length;
    await mailer.sendMail({ from: user, to: 'one@example.com', subject: 'x', text: 'x' });
    expect(gmail.messages.length).toBe(gmailBefore + 1);
    mailer.close();
  });
});
