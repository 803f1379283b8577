import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, connect, type Server, type AddressInfo } from 'node:net';
import { createGmailTransport, isGmailTransportError, type GmailTransportConfig } from '../../src/index.js';
import { startRecordingServer, type RecordingServer } from '../helpers/smtp-server.js';
import { expectNoSecret } from '../contract/strategy.js';

const APP_PASSWORD = 'tgkz pwmr hvqc sdlb';
const APP_PASSWORD_SENT = 'tgkzpwmrhvqcsdlb';
const RELAY_PASSWORD = 'FAKE-RELAY-PW-77a3';

/**
 * A TCP proxy in front of the SMTP server that keeps every byte the client sent: the server's
 * own records show what it parsed, these show what crossed the wire.
 */
interface WireTap {
  port: number;
  clientBytes(): string;
  close(): Promise<void>;
}

async function startWireTap(target: number): Promise<WireTap> {
  const chunks: Buffer[] = [];
  const server: Server = createServer((client) => {
    const upstream = connect(target, '127.0.0.1');
    client.on('data', (chunk: Buffer) => chunks.push(chunk));
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    clientBytes: () => Buffer.concat(chunks).toString('latin1'),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Every form a password takes in AUTH PLAIN and AUTH LOGIN (RFC 4616, and LOGIN's base64 lines). */
function wireForms(user: string, pass: string): string[] {
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  return [pass, b64(pass), b64(`\0${user}\0${pass}`), b64(`${user}\0${user}\0${pass}`)];
}

describe('a server that offers no STARTTLS receives no credentials', () => {
  let plain: RecordingServer;
  let tap: WireTap;
  beforeAll(async () => {
    // Offers AUTH PLAIN LOGIN in clear and no STARTTLS: a downgraded or misconfigured server.
    plain = await startRecordingServer({ noStartTls: true });
    tap = await startWireTap(plain.port);
  });
  afterAll(async () => {
    await tap.close();
    await plain.close();
  });

  const cases: { name: string; user: string; pass: string; config: () => GmailTransportConfig }[] = [
    {
      name: 'app-password',
      user: 'me@gmail.com',
      pass: APP_PASSWORD_SENT,
      config: () => ({ strategy: 'app-password', user: 'me@gmail.com', appPassword: APP_PASSWORD, smtp: { host: '127.0.0.1', port: tap.port } }),
    },
    {
      name: 'ip-relay with auth',
      user: 'app@example.com',
      pass: APP_PASSWORD_SENT,
      config: () => ({
        strategy: 'ip-relay',
        domain: 'example.com',
        auth: { user: 'app@example.com', appPassword: APP_PASSWORD },
        smtp: { host: '127.0.0.1', port: tap.port },
      }),
    },
    {
      name: 'relay',
      user: 'apikey',
      pass: RELAY_PASSWORD,
      config: () => ({ strategy: 'relay', host: '127.0.0.1', port: tap.port, auth: { user: 'apikey', pass: RELAY_PASSWORD } }),
    },
  ];

  for (const c of cases) {
    it(`${c.name}: the send fails with TLS_FAILED before AUTH, and no password byte crosses the wire (issue 2)`, async () => {
      const bytesBefore = tap.clientBytes().length;
      const attemptsBefore = plain.authAttempts.length;
      const mailer = createGmailTransport({ ...c.config(), retry: false } as GmailTransportConfig);
      const err = await mailer.sendMail({ from: c.user.includes('@') ? c.user : 'app@example.com', to: 'you@example.org', text: 'x' }).catch((e: unknown) => e);

      expect(isGmailTransportError(err)).toBe(true);
      expect(err).toMatchObject({ code: 'TLS_FAILED', phase: 'tls', retryable: false, strategy: c.config().strategy });
      expect((err as { hint: string }).hint).toMatch(/No credentials were sent/);
      expectNoSecret(err, [APP_PASSWORD, APP_PASSWORD_SENT, RELAY_PASSWORD]);

      expect(plain.authAttempts).toHaveLength(attemptsBefore);
      expect(plain.transcripts.at(-1)!.some((cmd) => cmd.startsWith('AUTH') || cmd.startsWith('MAIL'))).toBe(false);
      const wire = tap.clientBytes().slice(bytesBefore);
      expect(wire).toMatch(/^EHLO /m);
      expect(wire).toMatch(/^STARTTLS\r$/m);
      expect(wire).not.toMatch(/^AUTH/im);
      for (const form of wireForms(c.user, c.pass)) expect(wire).not.toContain(form);
    });
  }

  it('verify() fails the same way, before AUTH', async () => {
    const attemptsBefore = plain.authAttempts.length;
    const mailer = createGmailTransport(cases[0]!.config());
    await expect(mailer.verify()).rejects.toMatchObject({ code: 'TLS_FAILED', phase: 'tls' });
    expect(plain.authAttempts).toHaveLength(attemptsBefore);
  });

  it('ip-relay without auth does not fall back to clear either: STARTTLS is required', async () => {
    const messagesBefore = plain.messages.length;
    const mailer = createGmailTransport({ strategy: 'ip-relay', domain: 'example.com', smtp: { host: '127.0.0.1', port: tap.port }, retry: false });
    await expect(mailer.sendMail({ from: 'app@example.com', to: 'you@example.org', text: 'x' })).rejects.toMatchObject({ code: 'TLS_FAILED' });
    expect(plain.messages).toHaveLength(messagesBefore);
  });

  it('only the loudly named opt-out sends credentials in clear (a trusted test server)', async () => {
    const mailer = createGmailTransport({
      strategy: 'relay',
      host: '127.0.0.1',
      port: tap.port,
      auth: { user: 'apikey', pass: RELAY_PASSWORD },
      smtp: { requireTLS: false, dangerouslyAllowCredentialsInClear: true },
    });
    await mailer.sendMail({ from: 'app@example.com', to: 'you@example.org', subject: 'clear', text: 'x' });
    expect(plain.authAttempts.at(-1)).toMatchObject({ method: 'PLAIN', username: 'apikey', password: RELAY_PASSWORD, secure: false });
    expect(plain.messages.at(-1)!.secure).toBe(false);
  });
});
