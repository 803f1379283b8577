import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SendMailOptions, SentMessageInfo } from 'nodemailer';
import { createGmailTransport, isGmailTransportError, type GmailTransportError } from '../../src/index.js';
import { startRecordingServer, type RecordingServer } from '../helpers/smtp-server.js';

/**
 * Failures raised by nodemailer's own `sendMail`, before our transport is called: a plugin,
 * the message data itself. They leave `sendMail` typed too, in both calling styles, and a
 * message that failed there never reaches the server.
 */
describe('sendMail: failures before the transport', () => {
  let server: RecordingServer;
  beforeAll(async () => {
    server = await startRecordingServer({ secure: true });
  });
  afterAll(async () => {
    await server.close();
  });

  const mailer = () =>
    createGmailTransport({
      strategy: 'app-password',
      user: 'me@gmail.com',
      appPassword: 'qzxv wkjr tpln hmgd',
      smtp: { host: '127.0.0.1', port: server.port, secure: true, tls: { ca: [server.cert] } },
    });

  /** Message data whose `subject` throws when nodemailer copies it (synchronously, in sendMail). */
  const throwingData = (): SendMailOptions => {
    const data: SendMailOptions = { from: 'me@gmail.com', to: 'you@example.com', text: 'Hello' };
    Object.defineProperty(data, 'subject', {
      enumerable: true,
      get() {
        throw new Error('subject getter failed');
      },
    });
    return data;
  };

  const viaCallback = (send: (cb: (err: Error | null, info?: SentMessageInfo) => void) => void) =>
    new Promise<{ calls: number; err: Error | null }>((resolve) => {
      let calls = 0;
      let first: Error | null = null;
      send((err) => {
        calls++;
        first ??= err;
      });
      // Anything a second call would do has happened by then.
      setTimeout(() => resolve({ calls, err: first }), 50);
    });

  it('a compile plugin that fails: the promise rejects with a GmailTransportError carrying it', async () => {
    const transport = mailer();
    const pluginError = new Error('plugin refused the message');
    transport.use('compile', (_mail, done) => done(pluginError));
    const err = (await transport.sendMail({ from: 'me@gmail.com', to: 'you@example.com', text: 'Hi' }).catch((e: unknown) => e)) as GmailTransportError;
    transport.close();
    expect(isGmailTransportError(err)).toBe(true);
    expect(err).toMatchObject({ code: 'UNKNOWN', retryable: false, strategy: 'app-password' });
    expect(err.cause).toBe(pluginError);
    expect(server.messages).toHaveLength(0);
  });

  it('the same with a callback: called once, with a GmailTransportError', async () => {
    const transport = mailer();
    transport.use('compile', (_mail, done) => done(new Error('plugin refused the message')));
    const { calls, err } = await viaCallback((cb) => transport.sendMail({ from: 'me@gmail.com', to: 'you@example.com', text: 'Hi' }, cb));
    transport.close();
    expect(calls).toBe(1);
    expect(isGmailTransportError(err)).toBe(true);
  });

  it('message data that throws while nodemailer reads it: a typed rejection, not a throw out of sendMail', async () => {
    const transport = mailer();
    let returned: Promise<SentMessageInfo> | undefined;
    expect(() => {
      returned = transport.sendMail(throwingData());
    }).not.toThrow();
    const err = (await returned!.catch((e: unknown) => e)) as GmailTransportError;
    transport.close();
    expect(isGmailTransportError(err)).toBe(true);
    expect(err.code).toBe('UNKNOWN');
    expect((err.cause as Error).message).toBe('subject getter failed');
    expect(server.messages).toHaveLength(0);
  });

  it('the same with a callback: the callback gets it, once, typed', async () => {
    const transport = mailer();
    const { calls, err } = await viaCallback((cb) => transport.sendMail(throwingData(), cb));
    transport.close();
    expect(calls).toBe(1);
    expect(isGmailTransportError(err)).toBe(true);
    expect(((err as GmailTransportError).cause as Error).message).toBe('subject getter failed');
  });

  it("a throw out of the caller's own callback is passed on, and the callback is not called again", () => {
    const transport = mailer();
    // nodemailer reports a plugin's failure synchronously: the callback runs inside sendMail.
    transport.use('compile', (_mail, done) => done(new Error('plugin refused the message')));
    let calls = 0;
    const callerBug = new Error("the caller's callback failed");
    expect(() =>
      transport.sendMail({ from: 'me@gmail.com', to: 'you@example.com', text: 'Hi' }, () => {
        calls++;
        throw callerBug;
      }),
    ).toThrow(callerBug);
    transport.close();
    expect(calls).toBe(1);
  });
});
