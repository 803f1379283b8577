import { afterEach, describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { createGmailTransport, type GmailTransportError, type TransportEvents } from '../../src/index.js';
import { startScriptedServer, type DropPoint, type ScriptedSmtpServer, type SessionScript } from '../helpers/scripted-smtp.js';
import { replayConfig } from '../helpers/replay.js';

const FAST_RETRY = { attempts: 3, minDelayMs: 1, maxDelayMs: 5, maxElapsedMs: 10_000 };
const MESSAGE = { from: 'me@gmail.com', to: 'you@example.com', subject: 'Once', text: 'Exactly once, please.' };
// Big enough that the sockets' buffers cannot hold it: the drop happens while it is streaming.
const BIG_ATTACHMENT = Buffer.alloc(12 * 1024 * 1024, 0x61);

let servers: ScriptedSmtpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function serverWith(script: (connection: number) => SessionScript): Promise<ScriptedSmtpServer> {
  const server = await startScriptedServer({ script });
  servers.push(server);
  return server;
}

/** A transporter on `server` that records its `retry` events. */
function transporter(server: ScriptedSmtpServer, extra: Record<string, unknown> = {}) {
  const mailer = createGmailTransport(replayConfig('app-password', server, { retry: FAST_RETRY, ...extra }));
  const retries: TransportEvents['retry'][] = [];
  mailer.on('retry', (event) => retries.push(event));
  return { mailer, retries };
}

function firstTimeOnly(script: SessionScript): (connection: number) => SessionScript {
  return (connection) => (connection === 0 ? script : {});
}

describe('retries never deliver a message twice', () => {
  // The message cannot have been accepted: no final dot reached the server.
  // nodemailer reports every dropped connection as `CONN`; the phase is how far we saw it get.
  // After AUTH it may already have asked for the envelope when it notices the drop.
  it.each<[DropPoint, readonly GmailTransportError['phase'][]]>([
    ['before-greeting', ['connect']],
    ['after-ehlo', ['connect']],
    ['after-auth', ['connect', 'mail']],
    ['after-mail', ['mail']],
    ['after-rcpt', ['mail']],
  ])('a connection dropped %s is retried, and the message arrives once', async (drop, phases) => {
    const server = await serverWith(firstTimeOnly({ drop }));
    const { mailer, retries } = transporter(server);
    const info = await mailer.sendMail(MESSAGE);
    mailer.close();
    expect(info.accepted).toEqual(['you@example.com']);
    expect(server.connections).toBe(2);
    expect(server.received).toHaveLength(1);
    expect(server.accepted).toBe(1);
    expect(retries).toEqual([expect.objectContaining({ strategy: 'app-password', attempt: 1, code: 'CONNECTION_FAILED', messageId: info.messageId })]);
    expect(retries[0]!.delayMs).toBeLessThanOrEqual(FAST_RETRY.maxDelayMs);
    // What the first attempt's error said, as seen by a transport that does not retry.
    const once = await serverWith(firstTimeOnly({ drop }));
    const single = transporter(once, { retry: false });
    const err = (await single.mailer.sendMail(MESSAGE).catch((e: unknown) => e)) as GmailTransportError;
    single.mailer.close();
    expect(err).toMatchObject({ code: 'CONNECTION_FAILED', retryable: true });
    expect(phases).toContain(err.phase);
    expect(once.received).toHaveLength(0);
  });

  it('a connection dropped mid-DATA is retried: the partial message was never complete', async () => {
    const server = await serverWith(firstTimeOnly({ drop: 'mid-data', dropAfterBytes: 256 * 1024 }));
    const { mailer, retries } = transporter(server);
    const info = await mailer.sendMail({ ...MESSAGE, attachments: [{ filename: 'big.txt', content: BIG_ATTACHMENT }] });
    mailer.close();
    expect(server.connections).toBe(2);
    expect(server.received).toHaveLength(1);
    expect(server.received[0]!.connection).toBe(1);
    expect(server.received[0]!.raw.length).toBeGreaterThan(BIG_ATTACHMENT.length);
    expect(retries).toEqual([expect.objectContaining({ attempt: 1, code: 'CONNECTION_FAILED', messageId: info.messageId })]);
  });

  it.each([false, true])('a connection lost after the final dot is DELIVERY_UNCERTAIN, never retried (pool: %s)', async (pool) => {
    const server = await serverWith(firstTimeOnly({ drop: 'after-dot' }));
    const { mailer, retries } = transporter(server, pool ? { pool: true, maxConnections: 1 } : {});
    const err = (await mailer.sendMail(MESSAGE).catch((e: unknown) => e)) as GmailTransportError;
    mailer.close();
    expect(err).toMatchObject({ code: 'DELIVERY_UNCERTAIN', retryable: false, phase: 'data', strategy: 'app-password' });
    // The server holds the whole message (it may have queued it): exactly one copy, one connection.
    expect(server.received).toHaveLength(1);
    expect(server.connections).toBe(1);
    expect(retries).toEqual([]);
    const sentId = /^Message-ID: (<[^>]+>)/im.exec(server.received[0]!.raw.toString('utf8'))?.[1];
    expect(err.messageId).toBe(sentId);
    expect(err.message).toContain(sentId);
  });

  it('a 4xx reply to MAIL FROM is retried; the second attempt delivers', async () => {
    const server = await serverWith(firstTimeOnly({ replies: { mail: '451 4.3.0 Mail server temporarily rejected message.' } }));
    const { mailer, retries } = transporter(server);
    await mailer.sendMail(MESSAGE);
    mailer.close();
    expect(server.accepted).toBe(1);
    expect(retries).toEqual([expect.objectContaining({ attempt: 1, code: 'TEMPORARY_FAILURE' })]);
  });

  it('a 4xx reply to the final dot is retried: the server said it did not take the message', async () => {
    const server = await serverWith(firstTimeOnly({ replies: { dot: '421 4.7.0 Temporary System Problem.  Try again later (10). q1-gsmtp' } }));
    const { mailer, retries } = transporter(server);
    await mailer.sendMail(MESSAGE);
    mailer.close();
    expect(server.received.map((m) => m.accepted)).toEqual([false, true]);
    expect(retries).toEqual([expect.objectContaining({ code: 'TEMPORARY_FAILURE' })]);
  });

  it('a 5xx reply is not retried', async () => {
    const server = await serverWith(() => ({ replies: { rcpt: '550-5.1.1 The email account that you tried to reach does not exist.\n550 5.1.1 x-gsmtp' } }));
    const { mailer, retries } = transporter(server);
    const err = (await mailer.sendMail(MESSAGE).catch((e: unknown) => e)) as GmailTransportError;
    mailer.close();
    expect(err).toMatchObject({ code: 'RECIPIENT_REJECTED', retryable: false, phase: 'rcpt' });
    expect(server.connections).toBe(1);
    expect(retries).toEqual([]);
  });

  it('retry: false makes one attempt', async () => {
    const server = await serverWith(firstTimeOnly({ drop: 'before-greeting' }));
    const { mailer, retries } = transporter(server, { retry: false });
    const err = (await mailer.sendMail(MESSAGE).catch((e: unknown) => e)) as GmailTransportError;
    mailer.close();
    expect(err).toMatchObject({ code: 'CONNECTION_FAILED', retryable: true });
    expect(server.connections).toBe(1);
    expect(retries).toEqual([]);
  });

  it('stops after `attempts` and returns the last error, still retryable for the caller', async () => {
    const server = await serverWith(() => ({ drop: 'after-ehlo' }));
    const { mailer, retries } = transporter(server, { retry: { ...FAST_RETRY, attempts: 4 } });
    const err = (await mailer.sendMail(MESSAGE).catch((e: unknown) => e)) as GmailTransportError;
    mailer.close();
    expect(err).toMatchObject({ code: 'CONNECTION_FAILED', retryable: true });
    expect(server.connections).toBe(4);
    expect(retries.map((r) => r.attempt)).toEqual([1, 2, 3]);
  });

  it('retries a message with stream content when the failed attempt never read it', async () => {
    const server = await serverWith(firstTimeOnly({ drop: 'after-ehlo' }));
    const { mailer } = transporter(server);
    await mailer.sendMail({ ...MESSAGE, text: Readable.from(['streamed ', 'body']) });
    mailer.close();
    expect(server.received).toHaveLength(1);
    expect(server.received[0]!.raw.toString('utf8')).toContain('streamed body');
  });

  it('does not retry a message whose stream content a failed attempt consumed; the error stays retryable', async () => {
    const server = await serverWith(firstTimeOnly({ drop: 'mid-data', dropAfterBytes: 64 * 1024 }));
    const { mailer, retries } = transporter(server);
    const big = BIG_ATTACHMENT.toString('latin1');
    const err = (await mailer
      .sendMail({ ...MESSAGE, attachments: [{ filename: 'big.txt', content: Readable.from([big]) }] })
      .catch((e: unknown) => e)) as GmailTransportError;
    mailer.close();
    expect(err).toMatchObject({ code: 'CONNECTION_FAILED', retryable: true, phase: 'data' });
    expect(server.connections).toBe(1);
    expect(server.received).toHaveLength(0);
    expect(retries).toEqual([]);
  });
});
