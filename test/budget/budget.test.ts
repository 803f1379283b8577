import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { inspect } from 'node:util';
import { createGmailTransport, type GmailTransportConfig, type GmailTransportError, type TransportEvents } from '../../src/index.js';
import { startRecordingServer, type RecordingServer } from '../helpers/smtp-server.js';
import { startScriptedServer, type ScriptedSmtpServer, type SessionScript } from '../helpers/scripted-smtp.js';
import { localSmtp } from '../helpers/oauth-fixtures.js';
import { sendFailure } from '../helpers/send-failure.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { createTransportWith } from '../../src/transport/create.js';

const APP_PASSWORD = 'fakebudgetpwqzxk';
const DAY_MS = 24 * 60 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;

let serial = 0;
/** A mailbox no other test sends as: the default budget store is this process's memory, shared per mailbox. */
const mailbox = (domain = 'example.com') => `budget-${process.pid}-${++serial}@${domain}`;

function appPasswordConfig(user: string, server: { port: number; cert: string }, extra: Record<string, unknown> = {}): GmailTransportConfig {
  return {
    strategy: 'app-password',
    user,
    appPassword: APP_PASSWORD,
    smtp: localSmtp(server as RecordingServer),
    retry: false,
    ...extra,
  } as GmailTransportConfig;
}

function appPassword(user: string, server: { port: number; cert: string }, extra: Record<string, unknown> = {}) {
  return createGmailTransport(appPasswordConfig(user, server, extra));
}

const message = (from: string, to: string | string[] = 'you@example.com') => ({ from, to, subject: 'Budget', text: 'Counted.' });

function assertNoSecret(err: unknown): void {
  for (const text of [String(err), JSON.stringify(err), inspect(err, { depth: 8 })]) expect(text).not.toContain(APP_PASSWORD);
}

describe('sending budget, memory store (the default), through a real SMTP server', () => {
  let server: RecordingServer;
  const scripted: ScriptedSmtpServer[] = [];
  beforeAll(async () => {
    server = await startRecordingServer({ secure: true });
  });
  afterEach(async () => {
    vi.useRealTimers();
    await Promise.all(scripted.splice(0).map((s) => s.close()));
  });
  afterAll(() => server.close());

  async function scriptedServer(script: SessionScript | ((n: number) => SessionScript)): Promise<ScriptedSmtpServer> {
    const s = await startScriptedServer({ script });
    scripted.push(s);
    return s;
  }

  it('refuses the N+1th message with phase budget, retryable, before any network: the server saw N', async () => {
    const user = mailbox();
    const mailer = appPassword(user, server, { budget: { messagesPerDay: 3 } });
    const before = { messages: server.messages.length, connections: server.connections };
    for (let i = 0; i < 3; i++) await mailer.sendMail(message(user));
    expect(server.messages.length - before.messages).toBe(3);
    const connections = server.connections;
    const err = await sendFailure(mailer.sendMail(message(user)));
    mailer.close();
    expect(err).toMatchObject({ code: 'QUOTA_EXCEEDED', phase: 'budget', retryable: true, strategy: 'app-password' });
    expect(err.retryAfterMs).toBeGreaterThan(DAY_MS - 60_000);
    expect(err.retryAfterMs).toBeLessThanOrEqual(DAY_MS);
    expect(err.message).toContain('3 of 3 messages');
    expect(err.hint).toMatch(/budget/);
    expect(server.messages.length - before.messages).toBe(3);
    expect(server.connections).toBe(connections);
    assertNoSecret(err);
  });

  it("defaults to Google's limits: 500 a day for @gmail.com, 2000 for other mailboxes, 100 recipients per message", async () => {
    const personal = mailbox('gmail.com');
    const workspace = mailbox();
    const a = appPassword(personal, server);
    const b = appPassword(workspace, server);
    await a.sendMail(message(personal));
    await b.sendMail(message(workspace));
    const [mine] = await a.budgetStatus();
    const [theirs] = await b.budgetStatus();
    a.close();
    b.close();
    expect(mine).toMatchObject({
      mailbox: personal,
      messages: { used: 1, limit: 500, left: 499 },
      recipients: { used: 1, limit: 10_000, left: 9_999 },
      recipientsPerMessage: 100,
      store: 'memory',
    });
    expect(theirs).toMatchObject({ messages: { used: 1, limit: 2_000, left: 1_999 } });
  });

  it('refuses a message with more recipients than recipientsPerMessage before connecting; one at the limit goes', async () => {
    const user = mailbox();
    const mailer = appPassword(user, server);
    const connections = server.connections;
    const many = Array.from({ length: 101 }, (_, i) => `r${i}@example.com`);
    const err = await sendFailure(mailer.sendMail(message(user, many)));
    expect(err).toMatchObject({ code: 'MESSAGE_INVALID', phase: 'message', retryable: false });
    expect(err.message).toContain('101 recipients');
    expect(err.retryAfterMs).toBeUndefined();
    expect(server.connections).toBe(connections);
    const before = server.messages.length;
    await mailer.sendMail(message(user, many.slice(0, 100)));
    expect(server.messages.length).toBe(before + 1);
    expect(server.messages.at(-1)!.envelope.to).toHaveLength(100);
    const [status] = await mailer.budgetStatus();
    mailer.close();
    // The refused message counted nothing; the one sent counted its 100 recipients.
    expect(status).toMatchObject({ messages: { used: 1 }, recipients: { used: 100 } });
    assertNoSecret(err);
  });

  it('counts recipients per day: a message that would pass the limit waits for the messages ahead of it', async () => {
    const user = mailbox();
    const mailer = appPassword(user, server, { budget: { recipientsPerDay: 5 } });
    await mailer.sendMail(message(user, ['a@example.com', 'b@example.com', 'c@example.com']));
    const err = await sendFailure(mailer.sendMail(message(user, ['d@example.com', 'e@example.com', 'f@example.com'])));
    expect(err).toMatchObject({ code: 'QUOTA_EXCEEDED', phase: 'budget', retryable: true });
    expect(err.message).toContain('3 of 5 recipients');
    await mailer.sendMail(message(user, ['d@example.com', 'e@example.com']));
    mailer.close();
  });

  it("rolls the window on the transport's clock (injected): a slot frees exactly when its message is 24 hours old", async () => {
    const t0 = Date.parse('2026-03-02T09:00:00Z');
    const clock = new ManualClock(t0);
    const user = mailbox();
    const mailer = createTransportWith(appPasswordConfig(user, server, { budget: { messagesPerDay: 2 } }), undefined, { clock });
    await mailer.sendMail(message(user));
    clock.t = t0 + HOUR_MS;
    await mailer.sendMail(message(user));
    clock.t = t0 + 2 * HOUR_MS;
    const first = await sendFailure(mailer.sendMail(message(user)));
    expect(first.retryAfterMs).toBe(22 * HOUR_MS);
    clock.t = t0 + DAY_MS - 1;
    expect((await sendFailure(mailer.sendMail(message(user)))).retryAfterMs).toBe(1);
    clock.t = t0 + DAY_MS;
    await mailer.sendMail(message(user));
    // The message of t0 + 1 h still counts, with the one just sent.
    const second = await sendFailure(mailer.sendMail(message(user)));
    expect(second.retryAfterMs).toBe(HOUR_MS);
    mailer.close();
  });

  it('warns BUDGET_LOW exactly once, when a message brings the budget to 80%', async () => {
    const user = mailbox();
    const mailer = appPassword(user, server, { budget: { messagesPerDay: 10 } });
    const warnings: Array<TransportEvents['warning'] & { after: number }> = [];
    let sent = 0;
    mailer.on('warning', (w) => warnings.push({ ...w, after: sent }));
    for (let i = 0; i < 10; i++) {
      await mailer.sendMail(message(user));
      sent++;
    }
    await sendFailure(mailer.sendMail(message(user)));
    mailer.close();
    const low = warnings.filter((w) => w.code === 'BUDGET_LOW');
    expect(low).toHaveLength(1);
    // Emitted while the 8th message was being sent (reserved, before it was delivered).
    expect(low[0]!.after).toBe(7);
    expect(low[0]!.message).toContain('8 of 10 messages');
    expect(low[0]!.strategy).toBe('app-password');
  });

  it('shares one count between two transports of the same mailbox in a process', async () => {
    const user = mailbox();
    const a = appPassword(user, server, { budget: { messagesPerDay: 3 } });
    const b = appPassword(user, server, { budget: { messagesPerDay: 3 } });
    await a.sendMail(message(user));
    await a.sendMail(message(user));
    await b.sendMail(message(user));
    expect((await sendFailure(b.sendMail(message(user)))).phase).toBe('budget');
    expect((await sendFailure(a.sendMail(message(user)))).phase).toBe('budget');
    a.close();
    b.close();
  });

  it("ip-relay counts per envelope sender, with the relay's per-user limits; relay counts nothing unless configured", async () => {
    const relay = createGmailTransport({ strategy: 'ip-relay', domain: 'example.com', smtp: localSmtp(server), retry: false, budget: { recipientsPerDay: 3 } });
    const [alice, bob] = [mailbox(), mailbox()];
    await relay.sendMail(message(alice, ['a@example.com', 'b@example.com']));
    await relay.sendMail(message(bob, ['a@example.com', 'b@example.com', 'c@example.com']));
    const err = await sendFailure(relay.sendMail(message(alice, ['c@example.com', 'd@example.com'])));
    expect(err).toMatchObject({ code: 'QUOTA_EXCEEDED', phase: 'budget', strategy: 'ip-relay' });
    expect(err.message).toContain(`budget of ${alice}`);
    await relay.sendMail(message(alice, 'c@example.com'));
    const status = await relay.budgetStatus();
    relay.close();
    expect(status.map((s) => [s.mailbox, s.recipients.used, s.recipients.left])).toEqual([
      [alice, 3, 0],
      [bob, 3, 0],
    ]);
    expect(status[0]).toMatchObject({ strategy: 'ip-relay', recipientsPerMessage: 100, messages: { used: 2 } });
    expect(status[0]!.messages.limit).toBeUndefined();

    const external = createGmailTransport({
      strategy: 'relay',
      host: '127.0.0.1',
      port: server.port,
      secure: true,
      smtp: { tls: { ca: [server.cert] } },
      retry: false,
    });
    const many = Array.from({ length: 150 }, (_, i) => `r${i}@example.com`);
    await external.sendMail(message(alice, many));
    expect(await external.budgetStatus()).toEqual([]);
    external.close();
  });

  it('budget: false counts nothing', async () => {
    const user = mailbox();
    const mailer = appPassword(user, server, { budget: false });
    const many = Array.from({ length: 150 }, (_, i) => `r${i}@example.com`);
    await mailer.sendMail(message(user, many));
    expect(await mailer.budgetStatus()).toEqual([]);
    mailer.close();
  });

  it('does not count a message the server refused before taking it, nor one whose connection failed before the final dot', async () => {
    const user = mailbox();
    const refusing = await scriptedServer((n) =>
      n === 0 ? { replies: { rcpt: '550 5.1.1 The email account that you tried to reach does not exist.' } } : n === 1 ? { drop: 'after-rcpt' } : {},
    );
    const mailer = appPassword(user, refusing, { budget: { messagesPerDay: 1 } });
    expect(await sendFailure(mailer.sendMail(message(user)))).toMatchObject({ code: 'RECIPIENT_REJECTED' });
    expect(await sendFailure(mailer.sendMail(message(user)))).toMatchObject({ code: 'CONNECTION_FAILED' });
    // Both reservations were given back: the one message of the budget still goes.
    await mailer.sendMail(message(user));
    expect(refusing.accepted).toBe(1);
    expect((await sendFailure(mailer.sendMail(message(user)))).phase).toBe('budget');
    mailer.close();
  });

  it('counts a message whose delivery is uncertain (the connection dropped after the final dot)', async () => {
    const user = mailbox();
    const dropping = await scriptedServer((n) => (n === 0 ? { drop: 'after-dot' } : {}));
    const mailer = appPassword(user, dropping, { budget: { messagesPerDay: 1 } });
    expect(await sendFailure(mailer.sendMail(message(user)))).toMatchObject({ code: 'DELIVERY_UNCERTAIN' });
    const err = await sendFailure(mailer.sendMail(message(user)));
    expect(err).toMatchObject({ code: 'QUOTA_EXCEEDED', phase: 'budget' });
    expect(dropping.connections).toBe(1);
    mailer.close();
  });

  it('gives back the reservation of each retried attempt: a message retried twice counts once', async () => {
    const user = mailbox();
    const flaky = await scriptedServer((n) => (n < 2 ? { replies: { greeting: '421 4.7.0 Try again later, closing connection.' } } : {}));
    const mailer = appPassword(user, flaky, { budget: { messagesPerDay: 2 }, retry: { attempts: 3, minDelayMs: 1, maxDelayMs: 2 } });
    await mailer.sendMail(message(user));
    expect(flaky.connections).toBe(3);
    const [status] = await mailer.budgetStatus();
    expect(status!.messages).toEqual({ used: 1, limit: 2, left: 1 });
    mailer.close();
  });

  it("Google's 550 5.4.5 marks the mailbox spent for the rest of the window: the next send, from another transport, does not connect", async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const t0 = Date.parse('2026-03-02T09:00:00Z');
    vi.setSystemTime(t0);
    const user = mailbox();
    // The reply as smtp.gmail.com sends it today (onepub-dev/onepub#543).
    const limit =
      '550-5.4.5 Daily user sending limit exceeded. For more information on Gmail\n550-5.4.5 sending limits go to\n550 5.4.5  https://support.google.com/a/answer/166852 d75a77b69052e-4535f85b3d9sm7257481cf.29 - gsmtp';
    const google = await scriptedServer({ replies: { dot: limit } });
    const first = appPassword(user, google);
    const refused = await sendFailure(first.sendMail(message(user)));
    expect(refused).toMatchObject({ code: 'QUOTA_EXCEEDED', retryable: false, phase: 'data' });
    const second = appPassword(user, google);
    const err = await sendFailure(second.sendMail(message(user)));
    expect(err).toMatchObject({ code: 'QUOTA_EXCEEDED', phase: 'budget', retryable: true });
    expect(err.message).toContain('Google refused');
    expect(err.retryAfterMs).toBe(DAY_MS);
    expect(google.connections).toBe(1);
    const [status] = await second.budgetStatus();
    // Google's refusal counted nothing; the budget counts as spent until then.
    expect(status).toMatchObject({ messages: { used: 0, left: 0 }, spentUntil: t0 + DAY_MS });
    vi.setSystemTime(t0 + DAY_MS);
    expect((await sendFailure(second.sendMail(message(user)))).phase).toBe('data');
    expect(google.connections).toBe(2);
    first.close();
    second.close();
  });
});

describe('budget option: validated with the rest of the config', () => {
  it('lists every invalid budget field by path, before any network', () => {
    let err: GmailTransportError | undefined;
    try {
      createGmailTransport({
        strategy: 'app-password',
        user: 'me@example.com',
        appPassword: APP_PASSWORD,
        budget: { messagesPerDay: 0, recipientsPerDay: 1.5, store: 'redis://x', perHour: 3 } as never,
      });
    } catch (e) {
      err = e as GmailTransportError;
    }
    expect(err?.code).toBe('CONFIG_INVALID');
    expect(err?.issues?.map((i) => i.path).sort()).toEqual(['budget.messagesPerDay', 'budget.perHour', 'budget.recipientsPerDay', 'budget.store']);
    expect(() => createGmailTransport({ strategy: 'app-password', user: 'me@example.com', appPassword: APP_PASSWORD, budget: 'none' as never })).toThrow(
      /budget must be an object/,
    );
  });

  it('accepts Infinity to lift one limit and false to turn the budget off', () => {
    for (const budget of [false as const, { messagesPerDay: Infinity }, {}]) {
      createGmailTransport({ strategy: 'app-password', user: 'me@example.com', appPassword: APP_PASSWORD, budget }).close();
    }
  });
});
