import { afterEach, describe, expect, it, vi } from 'vitest';
import SMTPTransport from 'nodemailer/lib/smtp-transport';
import SMTPPool from 'nodemailer/lib/smtp-pool';
import type { SentMessageInfo } from 'nodemailer';
import { createGmailTransport } from '../../../src/index.js';

type Root = Record<string, unknown> & { messageId(): string; getHeader(key: string): unknown; getEnvelope(): unknown };

/**
 * The SMTP route shows nodemailer's SMTP code a tracking object in place of the message's MIME
 * root for each attempt. nodemailer calls four of the root's methods today; a later version may
 * call others, which must still reach the real root. Nothing connects here: nodemailer's own
 * `send` is replaced by one that records what it was given.
 */
describe.each([
  ['SMTPTransport', SMTPTransport, false],
  ['SMTPPool', SMTPPool, true],
] as const)('the MIME root as %s sees it', (_name, Inner, pool) => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('answers every method of the real root, as the root; the mail gets its root back after the attempt', async () => {
    let seen: { root: Root; real: Root } | undefined;
    let mail: { message: unknown } | undefined;
    let realRoot: unknown;
    vi.spyOn(Inner.prototype as unknown as { send(...args: unknown[]): void }, 'send').mockImplementation(function (this: unknown, ...args: unknown[]) {
      const [sent, callback] = args as [{ message: Root }, (err: Error | null, info: SentMessageInfo) => void];
      seen = { root: sent.message, real: realRoot as Root };
      callback(null, {
        accepted: ['you@example.com'],
        rejected: [],
        envelope: { from: 'me@gmail.com', to: ['you@example.com'] },
        messageId: 'x',
        response: '250 ok',
      } as never);
    });
    const mailer = createGmailTransport({
      strategy: 'relay',
      host: '127.0.0.1',
      port: 2525,
      smtp: { requireTLS: false },
      ...(pool ? { pool: true } : {}),
    });
    mailer.use('stream', (m, done) => {
      mail = m as unknown as { message: unknown };
      realRoot = mail.message;
      done();
    });
    await mailer.sendMail({ from: 'me@gmail.com', to: 'you@example.com', subject: 'Hi', text: 'Hello', headers: { 'X-Trace': 't-1' } });
    mailer.close();

    expect(seen).toBeDefined();
    const { root, real } = seen!;
    expect(root).not.toBe(real);
    // The four nodemailer calls, answered by the real root.
    expect(root.messageId()).toBe(real.messageId());
    expect(root.getHeader('x-trace')).toBe('t-1');
    expect(root.getEnvelope()).toEqual(real.getEnvelope());
    // Every other method of the root's class, forwarded: one nodemailer does not call today.
    const methods = new Set<string>();
    for (let p = Object.getPrototypeOf(real) as object | null; p && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
      for (const key of Object.getOwnPropertyNames(p))
        if (key !== 'constructor' && typeof Object.getOwnPropertyDescriptor(p, key)?.value === 'function') methods.add(key);
    }
    expect(methods.size).toBeGreaterThan(10);
    for (const key of methods) expect(typeof root[key], key).toBe('function');
    expect((root.getAddresses as () => unknown)()).toEqual((real.getAddresses as () => unknown)());
    // Given back: nothing after the attempt (a retry, a failover's next route) sees the tracker.
    expect(mail!.message).toBe(real);
  });
});
