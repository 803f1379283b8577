import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGmailTransport, isGmailTransportError, resolveConfig, type AppPasswordConfig } from '../../src/index.js';
import { startRecordingServer, type RecordingServer } from '../helpers/smtp-server.js';
import { expectNoSecret, runStrategyContract } from '../contract/strategy.js';

// As Google displays it; what reaches the server is the 16 letters without spaces.
const APP_PASSWORD = 'qzxv wkjr tpln hmgd';
const APP_PASSWORD_SENT = 'qzxvwkjrtplnhmgd';
const ACCOUNT_PASSWORD = 'FAKE-ACCOUNT-PW-3c9e';

/** The config docs/strategies/app-password.md shows, with a literal app password. */
const readmeConfig = { strategy: 'app-password', user: 'me@gmail.com', appPassword: APP_PASSWORD } satisfies AppPasswordConfig;

const pointedAt = (server: RecordingServer, secure: boolean): AppPasswordConfig => ({
  ...readmeConfig,
  smtp: { host: '127.0.0.1', port: server.port, secure, tls: { ca: [server.cert] } },
});

runStrategyContract('app-password', {
  server: { secure: true },
  config: (server) => pointedAt(server, true),
  secrets: [APP_PASSWORD, APP_PASSWORD_SENT, ACCOUNT_PASSWORD],
  readmeConfig,
  invalid: [
    { title: 'no app password', config: (s) => ({ ...pointedAt(s, true), appPassword: undefined }), paths: ['appPassword'] },
    { title: 'an account password', config: (s) => ({ ...pointedAt(s, true), appPassword: ACCOUNT_PASSWORD }), paths: ['appPassword'] },
    { title: 'a user that is no address', config: (s) => ({ ...pointedAt(s, true), user: 'me' }), paths: ['user'] },
    {
      title: 'implicit TLS on port 587',
      config: () => ({ ...readmeConfig, smtp: { host: '127.0.0.1', port: 587, secure: true } }),
      paths: ['smtp.secure'],
    },
    {
      title: 'credentials without required STARTTLS',
      config: (s) => ({ ...readmeConfig, smtp: { host: '127.0.0.1', port: s.port, secure: false, requireTLS: false } }),
      paths: ['smtp.requireTLS'],
    },
  ],
});

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

  it('defaults to smtp.gmail.com:465 with implicit TLS, and 587 with required STARTTLS as the option', () => {
    const byDefault = resolveConfig(readmeConfig).options as { endpoint: object };
    expect(byDefault.endpoint).toEqual({ host: 'smtp.gmail.com', port: 465, secure: true, requireTLS: false });
    const onSubmission = resolveConfig({ ...readmeConfig, smtp: { secure: false } }).options as { endpoint: object };
    expect(onSubmission.endpoint).toEqual({ host: 'smtp.gmail.com', port: 587, secure: false, requireTLS: true });
    const byPort = resolveConfig({ ...readmeConfig, smtp: { port: 587 } }).options as { endpoint: object };
    expect(byPort.endpoint).toEqual({ host: 'smtp.gmail.com', port: 587, secure: false, requireTLS: true });
  });

  it('logs in over implicit TLS with the spaces stripped and delivers the message', async () => {
    const mailer = createGmailTransport(pointedAt(implicit, true));
    const info = await mailer.sendMail({ from: 'me@gmail.com', to: 'you@example.com', subject: 'Hi', text: 'Hello', html: '<p>Hello</p>' });
    expect(info.accepted).toEqual(['you@example.com']);
    const got = implicit.messages.at(-1)!;
    expect(got.secure).toBe(true);
    expect(got.startTls).toBe(false);
    expect(got.auth).toEqual({ method: 'PLAIN', username: 'me@gmail.com', password: APP_PASSWORD_SENT });
    expect(got.envelope).toEqual({ from: 'me@gmail.com', to: ['you@example.com'] });
    expect(got.parsed.subject).toBe('Hi');
    expect(got.parsed.from?.text).toBe('me@gmail.com');
    expect(got.parsed.text?.trim()).toBe('Hello');
    expect(got.parsed.html).toContain('<p>Hello</p>');
    expect(got.parsed.messageId).toBe(info.messageId);
  });

  it('accepts the app password typed with other whitespace (no-break spaces, doubled spaces)', async () => {
    const mailer = createGmailTransport({ ...pointedAt(implicit, true), appPassword: 'qzxv\u00a0wkjr  tpln hmgd' });
    await mailer.sendMail({ from: 'me@gmail.com', to: 'you@example.com', subject: 'nbsp', text: 'x' });
    expect(implicit.authAttempts.at(-1)).toMatchObject({ method: 'PLAIN', username: 'me@gmail.com', password: APP_PASSWORD_SENT, secure: true });
  });

  it('uses STARTTLS before AUTH and MAIL on 587-style endpoints', async () => {
    const mailer = createGmailTransport(pointedAt(starttls, false));
    await mailer.sendMail({ from: 'me@gmail.com', to: 'you@example.com', subject: 'S', text: 'x' });
    const transcript = starttls.transcripts.at(-1)!;
    const tlsAt = transcript.indexOf('STARTTLS');
    expect(tlsAt).toBeGreaterThan(-1);
    expect(tlsAt).toBeLessThan(transcript.indexOf('AUTH PLAIN'));
    expect(tlsAt).toBeLessThan(transcript.findIndex((c) => c.startsWith('MAIL FROM')));
    const got = starttls.messages.at(-1)!;
    expect(got.startTls).toBe(true);
    expect(got.auth).toEqual({ method: 'PLAIN', username: 'me@gmail.com', password: APP_PASSWORD_SENT });
    expect(got.parsed.subject).toBe('S');
    expect(starttls.authAttempts.every((a) => a.secure)).toBe(true);
  });

  it('maps a refused login to AUTH_INVALID_CREDENTIALS with the app-password hint and no secret', async () => {
    const rejecting = await startRecordingServer({ secure: true, checkAuth: () => false });
    try {
      const mailer = createGmailTransport({ ...pointedAt(rejecting, true), retry: false });
      const err = await mailer.sendMail({ from: 'me@gmail.com', to: 'you@example.com', text: 'x' }).catch((e: unknown) => e);
      expect(isGmailTransportError(err)).toBe(true);
      expect(err).toMatchObject({ code: 'AUTH_INVALID_CREDENTIALS', retryable: false, phase: 'auth', responseCode: 535, strategy: 'app-password' });
      expect((err as { hint: string }).hint).toMatch(/App passwords/);
      expect(rejecting.messages).toHaveLength(0);
      expectNoSecret(err, [APP_PASSWORD, APP_PASSWORD_SENT]);
    } finally {
      await rejecting.close();
    }
  });
});
