import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGmailTransport, isGmailTransportError, resolveConfig, type RelayConfig } from '../../src/index.js';
import { startRecordingServer, type RecordingServer } from '../helpers/smtp-server.js';
import { expectNoSecret, runStrategyContract } from '../contract/strategy.js';

const API_KEY = 'FAKE-SENDGRID-KEY-8b1e';
const RELAY_PASSWORD = 'FAKE-RELAY-PW-c04d';

/** The config docs/strategies/relay.md shows. */
const readmeConfig = { strategy: 'relay', preset: 'sendgrid', auth: { user: 'apikey', pass: API_KEY } } satisfies RelayConfig;

const pointedAt = (server: RecordingServer): RelayConfig => ({
  ...readmeConfig,
  smtp: { host: '127.0.0.1', port: server.port, tls: { ca: [server.cert] } },
});

function endpointOf(config: RelayConfig): unknown {
  return (resolveConfig(config).options as { endpoint: unknown }).endpoint;
}

runStrategyContract('relay', {
  config: pointedAt,
  secrets: [API_KEY, RELAY_PASSWORD],
  readmeConfig,
  invalid: [
    { title: 'neither host nor preset', config: () => ({ strategy: 'relay', auth: { user: 'u', pass: RELAY_PASSWORD } }), paths: ['host'] },
    { title: 'an unknown preset', config: (s) => ({ ...pointedAt(s), preset: 'sendgird' }), paths: ['preset'] },
    { title: 'SES without a region', config: (s) => ({ ...pointedAt(s), preset: 'ses' }), paths: ['region'] },
    { title: 'auth without a password', config: (s) => ({ ...pointedAt(s), auth: { user: 'apikey' } }), paths: ['auth.pass'] },
    { title: 'implicit TLS on port 587', config: () => ({ strategy: 'relay', host: 'mail.example.net', port: 587, secure: true }), paths: ['secure'] },
    { title: 'implicit TLS off on port 465', config: () => ({ strategy: 'relay', host: 'mail.example.net', port: 465, secure: false }), paths: ['secure'] },
    {
      title: 'credentials without required STARTTLS',
      config: (s) => ({ ...pointedAt(s), smtp: { host: '127.0.0.1', port: s.port, requireTLS: false } }),
      paths: ['smtp.requireTLS'],
    },
  ],
});

describe('relay strategy: presets', () => {
  // The same table as docs/strategies/relay.md; each row's source is cited in src/strategies/relay.ts.
  const presets = [
    { preset: 'sendgrid', host: 'smtp.sendgrid.net' },
    { preset: 'ses', region: 'eu-west-1', host: 'email-smtp.eu-west-1.amazonaws.com' },
    { preset: 'mailgun', host: 'smtp.mailgun.org' },
    { preset: 'mailgun', region: 'eu', host: 'smtp.eu.mailgun.org' },
    { preset: 'postmark', host: 'smtp.postmarkapp.com' },
    { preset: 'brevo', host: 'smtp-relay.brevo.com' },
    { preset: 'mailjet', host: 'in-v3.mailjet.com' },
    { preset: 'resend', host: 'smtp.resend.com' },
  ] as const;

  for (const row of presets) {
    it(`resolves ${row.preset}${'region' in row ? ` (${row.region})` : ''} to ${row.host}:587 with required STARTTLS`, () => {
      const config = {
        strategy: 'relay',
        preset: row.preset,
        ...('region' in row ? { region: row.region } : {}),
        auth: { user: 'u', pass: RELAY_PASSWORD },
      } as RelayConfig;
      expect(endpointOf(config)).toEqual({ host: row.host, port: 587, secure: false, requireTLS: true });
    });
  }

  it('switches a preset to implicit TLS on 465 with port or secure', () => {
    const tls465 = { host: 'smtp.sendgrid.net', port: 465, secure: true, requireTLS: false };
    expect(endpointOf({ strategy: 'relay', preset: 'sendgrid', port: 465 })).toEqual(tls465);
    expect(endpointOf({ strategy: 'relay', preset: 'sendgrid', secure: true })).toEqual(tls465);
    expect(endpointOf({ strategy: 'relay', preset: 'ses', region: 'us-east-1', port: 2587 })).toEqual({
      host: 'email-smtp.us-east-1.amazonaws.com',
      port: 2587,
      secure: false,
      requireTLS: true,
    });
  });

  it('takes any host, with 587 and required STARTTLS by default', () => {
    expect(endpointOf({ strategy: 'relay', host: 'mail.example.net' })).toEqual({ host: 'mail.example.net', port: 587, secure: false, requireTLS: true });
  });

  it('refuses regions that do not fit the preset, naming the field', () => {
    for (const [config, message] of [
      [{ strategy: 'relay', preset: 'ses', region: 'Frankfurt' }, /not a valid region/],
      [{ strategy: 'relay', preset: 'mailgun', region: 'asia' }, /not a valid region/],
      [{ strategy: 'relay', preset: 'sendgrid', region: 'eu' }, /not used by preset 'sendgrid'/],
      [{ strategy: 'relay', host: 'mail.example.net', region: 'eu' }, /only used with a preset/],
    ] as const) {
      const err = (() => {
        try {
          resolveConfig(config);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err).toMatchObject({ code: 'CONFIG_INVALID', issues: [{ path: 'region', message: expect.stringMatching(message) }] });
    }
  });
});

describe('relay strategy: deliveries', () => {
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

  it('logs in over implicit TLS to its own host and port, with the exact credentials', async () => {
    const mailer = createGmailTransport({
      strategy: 'relay',
      host: '127.0.0.1',
      port: implicit.port,
      secure: true,
      auth: { user: 'relay-user', pass: RELAY_PASSWORD },
      smtp: { tls: { ca: [implicit.cert] } },
    });
    await mailer.sendMail({ from: 'app@example.com', to: 'you@example.org', subject: 'Via relay', text: 'implicit' });
    const got = implicit.messages.at(-1)!;
    expect(got.secure).toBe(true);
    expect(got.startTls).toBe(false);
    expect(got.auth).toEqual({ method: 'PLAIN', username: 'relay-user', password: RELAY_PASSWORD });
    expect(got.envelope).toEqual({ from: 'app@example.com', to: ['you@example.org'] });
    expect(got.parsed.subject).toBe('Via relay');
    expect(got.parsed.text?.trim()).toBe('implicit');
  });

  it('uses AUTH LOGIN when asked, after STARTTLS', async () => {
    const mailer = createGmailTransport({
      strategy: 'relay',
      host: '127.0.0.1',
      port: starttls.port,
      auth: { user: 'relay-user', pass: RELAY_PASSWORD, method: 'LOGIN' },
      smtp: { tls: { ca: [starttls.cert] } },
    });
    await mailer.sendMail({ from: 'app@example.com', to: 'you@example.org', subject: 'Login', text: 'x' });
    const got = starttls.messages.at(-1)!;
    expect(got.startTls).toBe(true);
    expect(got.auth).toEqual({ method: 'LOGIN', username: 'relay-user', password: RELAY_PASSWORD });
    const transcript = starttls.transcripts.at(-1)!;
    expect(transcript.indexOf('STARTTLS')).toBeGreaterThan(-1);
    expect(transcript.indexOf('STARTTLS')).toBeLessThan(transcript.indexOf('AUTH LOGIN'));
    expect(transcript.indexOf('STARTTLS')).toBeLessThan(transcript.findIndex((c) => c.startsWith('MAIL FROM')));
  });

  it('sends no AUTH to a relay that trusts the IP, still over STARTTLS', async () => {
    const attemptsBefore = starttls.authAttempts.length;
    const mailer = createGmailTransport({ strategy: 'relay', host: '127.0.0.1', port: starttls.port, smtp: { tls: { ca: [starttls.cert] } } });
    await mailer.sendMail({ from: 'app@example.com', to: 'you@example.org', subject: 'No auth', text: 'x' });
    const got = starttls.messages.at(-1)!;
    expect(got.parsed.subject).toBe('No auth');
    expect(got.startTls).toBe(true);
    expect(got.auth).toBeUndefined();
    expect(starttls.authAttempts).toHaveLength(attemptsBefore);
    expect(starttls.transcripts.at(-1)!.some((c) => c.startsWith('AUTH'))).toBe(false);
  });

  it("reports refused credentials with the relay hint (SendGrid's user is apikey) and no secret", async () => {
    const rejecting = await startRecordingServer({ checkAuth: () => false });
    try {
      const mailer = createGmailTransport({ ...pointedAt(rejecting), retry: false });
      const err = await mailer.sendMail({ from: 'app@example.com', to: 'you@example.org', text: 'x' }).catch((e: unknown) => e);
      expect(isGmailTransportError(err)).toBe(true);
      expect(err).toMatchObject({ code: 'AUTH_INVALID_CREDENTIALS', retryable: false, phase: 'auth', responseCode: 535, strategy: 'relay' });
      expect((err as { hint: string }).hint).toMatch(/apikey/);
      expect(rejecting.authAttempts.at(-1)).toMatchObject({ username: 'apikey', password: API_KEY, secure: true });
      expectNoSecret(err, [API_KEY]);
    } finally {
      await rejecting.close();
    }
  });
});

describe('relay strategy: the endpoint in one place (issue 19)', () => {
  it.each([
    ['host', { host: 'a.example', smtp: { host: 'b.example' } }],
    ['port', { host: 'a.example', port: 2525, smtp: { port: 587 } }],
    ['secure', { host: 'a.example', secure: false, smtp: { secure: true } }],
  ] as const)('refuses %s set both at the top and under smtp, naming both paths', (key, config) => {
    const err = (() => {
      try {
        resolveConfig({ strategy: 'relay', ...config });
      } catch (e) {
        return e;
      }
      return undefined;
    })() as { code: string; issues: { path: string; message: string }[] };
    expect(err).toMatchObject({ code: 'CONFIG_INVALID' });
    const issue = err.issues.find((i) => i.path === key);
    expect(issue?.message).toContain(`smtp.${key}`);
  });

  it('still takes the host in either place alone', () => {
    expect((resolveConfig({ strategy: 'relay', host: 'a.example' }).options as { endpoint: { host: string } }).endpoint.host).toBe('a.example');
    expect((resolveConfig({ strategy: 'relay', smtp: { host: 'b.example' } } as RelayConfig).options as { endpoint: { host: string } }).endpoint.host).toBe(
      'b.example',
    );
  });
});
