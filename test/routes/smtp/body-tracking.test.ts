import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createTransport, type SentMessageInfo, type Transport } from 'nodemailer';
import { createGmailTransport, isGmailTransportError } from '../../../src/index.js';
import { trackBody, type BodyProgress } from '../../../src/routes/smtp/body-tracking.js';
import type { OutgoingMail } from '../../../src/core/route.js';

/**
 * The canary of src/routes/smtp/body-tracking.ts: nodemailer's real SMTPTransport and SMTPPool,
 * nothing mocked, against a byte-level SMTP server on 127.0.0.1 that drops the connection at a
 * chosen point. Each test names the behaviour of the module's header it pins; CI runs this file
 * against the newest nodemailer too (.ci/run).
 */

type DropAt = 'never' | 'data-command' | 'mid-body' | 'after-dot';

interface RawServer {
  port: number;
  /** In order, per connection: 'connect', 'DATA', '354', 'dot', 'drop'. */
  events: string[];
  /** The bytes of each message's DATA as received, terminator included. */
  bodies: Buffer[];
  close(): Promise<void>;
}

const servers: RawServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function rawServer(dropAt: DropAt): Promise<RawServer> {
  const sockets = new Set<Socket>();
  const state: RawServer = { port: 0, events: [], bodies: [], close: async () => undefined };
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    state.events.push('connect');
    const drop = (): void => {
      state.events.push('drop');
      socket.destroy();
    };
    let data: Buffer[] | undefined;
    let pending = Buffer.alloc(0);
    socket.write('220 canary ESMTP\r\n');
    socket.on('data', (chunk: Buffer) => {
      if (data) {
        data.push(chunk);
        if (dropAt === 'mid-body') {
          // Stop reading so the client's writes back up, then drop: the dot never left the client.
          socket.pause();
          setTimeout(drop, 50);
          return;
        }
        const all = Buffer.concat(data);
        if (all.subarray(-5).toString() !== '\r\n.\r\n') return;
        data = undefined;
        state.bodies.push(all);
        state.events.push('dot');
        if (dropAt === 'after-dot') return drop();
        socket.write('250 2.0.0 queued\r\n');
        return;
      }
      pending = Buffer.concat([pending, chunk]);
      let end: number;
      while ((end = pending.indexOf('\r\n')) >= 0) {
        const line = pending.subarray(0, end).toString();
        pending = pending.subarray(end + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO' || verb === 'HELO') socket.write('250 canary\r\n');
        else if (verb === 'MAIL' || verb === 'RCPT' || verb === 'RSET' || verb === 'NOOP') socket.write('250 ok\r\n');
        else if (verb === 'QUIT') socket.end('221 bye\r\n');
        else if (verb === 'DATA') {
          state.events.push('DATA');
          if (dropAt === 'data-command') return drop();
          state.events.push('354');
          socket.write('354 go ahead\r\n');
          data = pending.length > 0 ? [pending] : [];
          pending = Buffer.alloc(0);
          return;
        } else socket.write('502 unknown\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as AddressInfo).port;
  state.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  servers.push(state);
  return state;
}

/** nodemailer's own SMTPTransport or SMTPPool, with our tracking put in front of each send, as the SMTP route does. */
function trackedMailer(port: number, pool: boolean) {
  const inner = createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    ignoreTLS: true,
    logger: false,
    ...(pool ? { pool: true, maxConnections: 1, maxRequeues: 0 } : {}),
  } as Parameters<typeof createTransport>[0]).transporter as unknown as Transport<SentMessageInfo> & { close(): void };
  const seen: BodyProgress[] = [];
  const outer: Transport<SentMessageInfo> & { close(): void } = {
    name: 'canary',
    version: '1',
    send(mail, callback) {
      const progress = trackBody(mail as unknown as OutgoingMail);
      seen.push(progress);
      inner.send(mail, (err, info) => {
        progress.untrack();
        callback(err, info);
      });
    },
    close: () => inner.close(),
  };
  return { mailer: createTransport(outer), seen };
}

const message = (i: number, text = `message ${i}`) => ({ from: 'me@example.com', to: 'you@example.com', subject: `canary ${i}`, text });
/** 19 MB: more than loopback's socket buffers take while the server stops reading. */
const BIG = 'x'.repeat(76).concat('\r\n').repeat(250_000);

describe.each([
  ['SMTPTransport', false],
  ['SMTPPool', true],
] as const)('body tracking through nodemailer %s', (_name, pool) => {
  it('behaviours 1, 2 and 4: each message, queued or not, is read through the tracker once it is sent; the dot ends the body; its size is counted', async () => {
    const server = await rawServer('never');
    const { mailer, seen } = trackedMailer(server.port, pool);
    await Promise.all(Array.from({ length: 4 }, (_, i) => mailer.sendMail(message(i))));
    mailer.close();
    expect(seen).toHaveLength(4);
    expect(server.bodies).toHaveLength(4);
    for (const progress of seen) {
      expect([progress.reachedEnvelope, progress.contentRead, progress.body]).toEqual([true, true, 'complete']);
      expect(progress.size).toBeGreaterThan(100);
    }
    // inByteCount: the message before dot-stuffing, without the terminator DataStream appends.
    for (const [i, progress] of seen.entries()) expect([3, 5]).toContain(server.bodies[i]!.length - progress.size!);
  });

  it('behaviour 3: a connection lost when the server got DATA, before its 354, left the body unsent', async () => {
    const server = await rawServer('data-command');
    const { mailer, seen } = trackedMailer(server.port, pool);
    await expect(mailer.sendMail(message(1))).rejects.toThrow();
    mailer.close();
    expect(server.events).toEqual(['connect', 'DATA', 'drop']);
    expect([seen[0]!.reachedEnvelope, seen[0]!.body]).toEqual([true, 'not-sent']);
  });

  it('behaviour 4: a connection lost while the body is still going out is partial, never complete', async () => {
    const server = await rawServer('mid-body');
    const { mailer, seen } = trackedMailer(server.port, pool);
    await expect(mailer.sendMail(message(1, BIG))).rejects.toThrow();
    mailer.close();
    expect(server.events).toEqual(['connect', 'DATA', '354', 'drop']);
    expect(seen[0]!.body).toBe('partial');
    expect(seen[0]!.size).toBeUndefined();
  });

  it('behaviours 3 and 4: a connection lost right after the final dot is complete', async () => {
    const server = await rawServer('after-dot');
    const { mailer, seen } = trackedMailer(server.port, pool);
    await expect(mailer.sendMail(message(1))).rejects.toThrow();
    mailer.close();
    expect(server.events).toEqual(['connect', 'DATA', '354', 'dot', 'drop']);
    expect(seen[0]!.body).toBe('complete');
  });

  it('the promise, end to end: lost after the dot is DELIVERY_UNCERTAIN and never resent; lost before it is retried', async () => {
    const retry = { attempts: 2, minDelayMs: 1, maxDelayMs: 2 };
    const after = await rawServer('after-dot');
    const uncertain = createGmailTransport({
      strategy: 'relay',
      host: '127.0.0.1',
      port: after.port,
      smtp: { requireTLS: false },
      retry,
      ...(pool ? { pool: true } : {}),
    });
    const err = await uncertain.sendMail(message(1)).catch((e: unknown) => e);
    uncertain.close();
    expect(isGmailTransportError(err) && [err.code, err.retryable]).toEqual(['DELIVERY_UNCERTAIN', false]);
    expect(after.events.filter((e) => e === 'DATA')).toHaveLength(1);

    const before = await rawServer('mid-body');
    const lost = createGmailTransport({
      strategy: 'relay',
      host: '127.0.0.1',
      port: before.port,
      smtp: { requireTLS: false },
      retry,
      ...(pool ? { pool: true } : {}),
    });
    const err2 = await lost.sendMail(message(2, BIG)).catch((e: unknown) => e);
    lost.close();
    expect(isGmailTransportError(err2) && [err2.code, err2.retryable]).toEqual(['CONNECTION_FAILED', true]);
    expect(before.events.filter((e) => e === 'DATA')).toHaveLength(2);
  });
});
