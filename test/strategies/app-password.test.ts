import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGmailTransport, isGmailTransportError } from '../../src/index.js';
import { startRecordingServer, type RecordingServer } from '../helpers/smtp-server.js';

const APP_PASSWORD = 'abcd efgh ijkl mnop';

describe('app-password strategy', () => {
  let implicit: RecordingServer;
  let starttls: RecordingServer;
  beforeAll(async () => {
    implicit = await startRecordingServer({ secure: true });
    starttls = await startRecordingServer();
  });
  afterAll(async () => {
    await implicit.close();
    await starttls.close();
  });

  it('logs in over implicit TLS with the spaces stripped and delivers the message', async () => {
    const mailer = createGmailTransport({
      strategy: 'app-password',
      user: 'me@gmail.com',
      appPassword: APP_PASSWORD,
      smtp: { host: '127.0.0.1', port: implicit.port, secure: true, tls: { ca: [implicit.cert] } },
    });
    const info = await mailer.sendMail({ from: 'me@gmail.com', to: 'you@example.com', subject: 'Hi', text: 'Hello' });
    expect(info.accepted).toEqual(['you@example.com']);
    const got = implicit.messages.at(-1)!;
    expect(got.secure).toBe(true);
    expect(got.auth).toMatchObject({ method: 'PLAIN', username: 'me@gmail.com', password: 'abcdefghijklmnop' });
    expect(got.envelope).toEqual({ from: 'me@gmail.com', to: ['you@example.com'] });
    expect(got.parsed.subject).toBe('Hi');
    expect(got.parsed.text?.trim()).toBe('Hello');
  });

  it('uses STARTTLS before AUTH on 587-style endpoints', async () => {
    const mailer = createGmailTransport({
      strategy: 'app-password',
      user: 'me@gmail.com',
      appPassword: APP_PASSWORD,
      smtp: { host: '127.0.0.1', port: starttls.port, secure: false, tls: { ca: [starttls.cert] } },
    });
    await mailer.sendMail({ from: 'me@gmail.com', to: 'you@example.com', subject: 'S', text: 'x' });
    const transcript = starttls.transcripts.at(-1)!;
    expect(transcript.indexOf('STARTTLS')).toBeGreaterThan(-1);
    expect(transcript.indexOf('STARTTLS')).toBeLessThan(transcript.findIndex((c) => c.startsWith('AUTH')));
    expect(starttls.messages.at(-1)!.startTls).toBe(true);
  });

  it('maps a refused login to AUTH_INVALID_CREDENTIALS with no secret in the error', async () => {
    const rejecting = await startRecordingServer({ secure: true, checkAuth: () => false });
    try {
      const mailer = createGmailTransport({
        strategy: 'app-password',
        user: 'me@gmail.com',
        appPassword: APP_PASSWORD,
        smtp: { host: '127.0.0.1', port: rejecting.port, secure: true, tls: { ca: [rejecting.cert] } },
        retry: false,
      });
      const err = await mailer.sendMail({ from: 'me@gmail.com', to: 'you@example.com', text: 'x' }).catch((e: unknown) => e);
      expect(isGmailTransportError(err)).toBe(true);
      expect(err).toMatchObject({ code: 'AUTH_INVALID_CREDENTIALS', retryable: false, phase: 'auth', responseCode: 535, strategy: 'app-password' });
      const text = `${String(err)} ${JSON.stringify(err)} ${(err as Error).message} ${(err as { hint: string }).hint}`;
      expect(text).not.toContain('abcdefghijklmnop');
      expect(text).not.toContain('abcd efgh');
    } finally {
      await rejecting.close();
    }
  });
});
