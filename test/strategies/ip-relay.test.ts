import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGmailTransport, isGmailTransportError, resolveConfig, type IpRelayConfig } from '../../src/index.js';
import { startRecordingServer, type RecordingServer } from '../helpers/smtp-server.js';
import { expectNoSecret, runStrategyContract } from '../contract/strategy.js';

const APP_PASSWORD = 'rmvb kqtc wzfh jpyd';
const APP_PASSWORD_SENT = 'rmvbkqtcwzfhjpyd';
const RELAY_PASSWORD = 'FAKE-RELAY-PW-51d2';

/** The config docs/strategies/ip-relay.md shows. */
const readmeConfig = { strategy: 'ip-relay', domain: 'example.com' } satisfies IpRelayConfig;

const pointedAt = (server: RecordingServer): IpRelayConfig => ({
  ...readmeConfig,
  smtp: { host: '127.0.0.1', port: server.port, tls: { ca: [server.cert] } },
});

runStrategyContract('ip-relay', {
  config: pointedAt,
  secrets: [APP_PASSWORD, APP_PASSWORD_SENT, RELAY_PASSWORD],
  readmeConfig,
  invalid: [
    { title: 'no domain', config: (s) => ({ ...pointedAt(s), domain: undefined }), paths: ['domain'] },
    { title: 'a bare host name as domain', config: (s) => ({ ...pointedAt(s), domain: 'mailhost' }), paths: ['domain'] },
    { title: "nodemailer's default EHLO name as domain", config: (s) => ({ ...pointedAt(s), domain: '[127.0.0.1]' }), paths: ['domain'] },
    {
      title: 'auth with an account password',
      config: (s) => ({ ...pointedAt(s), auth: { user: 'app@example.com', appPassword: RELAY_PASSWORD } }),
      paths: ['auth.appPassword'],
    },
    { title: 'auth without a user', config: (s) => ({ ...pointedAt(s), auth: { appPassword: APP_PASSWORD } }), paths: ['auth.user'] },
    { title: 'STARTTLS port with implicit TLS off on 465', config: () => ({ ...readmeConfig, smtp: { port: 465, secure: false } }), paths: ['smtp.secure'] },
    {
      title: 'auth without required STARTTLS',
      config: (s) => ({
        ...pointedAt(s),
        auth: { user: 'app@example.com', appPassword: APP_PASSWORD },
        smtp: { host: '127.0.0.1', port: s.port, requireTLS: false },
      }),
      paths: ['smtp.requireTLS'],
    },
  ],
});

describe('ip-relay strategy', () => {
  let relay: RecordingServer;
  beforeAll(async () => {
    // Like smtp-relay.gmail.com set to "Only accept mail from the specified IP addresses": it
    // offers AUTH, but relays for a registered domain named in EHLO without it.
    relay = await startRecordingServer({
      onMailFrom: (_address, session) =>
        session.hostNameAppearsAs === 'example.com'
          ? undefined
          : // relay-550-571-invalid-credentials-for-relay (first line)
            "550 5.7.1 Invalid credentials for relay [127.0.0.1]. The IP address you've registered in your G Suite SMTP Relay service doesn't match domain of the account this email is being sent from.",
    });
  });
  afterAll(() => relay.close());

  it('defaults to smtp-relay.gmail.com:587 with required STARTTLS and the domain as EHLO name', () => {
    const { endpoint } = resolveConfig(readmeConfig).options as { endpoint: object };
    expect(endpoint).toEqual({ host: 'smtp-relay.gmail.com', port: 587, secure: false, requireTLS: true, name: 'example.com' });
  });

  it('sends EHLO with the domain, upgrades with STARTTLS before MAIL, and sends no AUTH', async () => {
    const mailer = createGmailTransport(pointedAt(relay));
    const info = await mailer.sendMail({
      from: 'app@example.com',
      to: ['a@example.org', 'b@example.net'],
      subject: 'Relayed',
      text: 'by IP',
      attachments: [{ filename: 'report.csv', content: 'a,b\n1,2\n' }],
    });
    expect(info.accepted).toEqual(['a@example.org', 'b@example.net']);
    const got = relay.messages.at(-1)!;
    expect(got.ehlo).toBe('example.com');
    expect(got.startTls).toBe(true);
    expect(got.auth).toBeUndefined();
    expect(relay.authAttempts).toHaveLength(0);
    const transcript = relay.transcripts.at(-1)!;
    expect(transcript.some((c) => c.startsWith('AUTH'))).toBe(false);
    expect(transcript.indexOf('STARTTLS')).toBeGreaterThan(-1);
    expect(transcript.indexOf('STARTTLS')).toBeLessThan(transcript.findIndex((c) => c.startsWith('MAIL FROM')));
    expect(got.envelope).toEqual({ from: 'app@example.com', to: ['a@example.org', 'b@example.net'] });
    expect(got.parsed.subject).toBe('Relayed');
    expect(got.parsed.attachments.map((a) => [a.filename, a.content.toString()])).toEqual([['report.csv', 'a,b\n1,2\n']]);
  });

  it('logs in after STARTTLS with the optional app password, spaces stripped', async () => {
    const mailer = createGmailTransport({ ...pointedAt(relay), auth: { user: 'app@example.com', appPassword: APP_PASSWORD } });
    await mailer.sendMail({ from: 'app@example.com', to: 'a@example.org', subject: 'With auth', text: 'x' });
    const got = relay.messages.at(-1)!;
    expect(got.auth).toEqual({ method: 'PLAIN', username: 'app@example.com', password: APP_PASSWORD_SENT });
    expect(got.ehlo).toBe('example.com');
    const transcript = relay.transcripts.at(-1)!;
    expect(transcript.indexOf('STARTTLS')).toBeGreaterThan(-1);
    expect(transcript.indexOf('STARTTLS')).toBeLessThan(transcript.indexOf('AUTH PLAIN'));
    expect(relay.authAttempts.at(-1)!.secure).toBe(true);
  });

  it('reports a relay refusal for an unregistered domain as RELAY_DENIED with the admin console hint', async () => {
    const mailer = createGmailTransport({ ...pointedAt(relay), domain: 'other.example.net', retry: false });
    const err = await mailer.sendMail({ from: 'app@other.example.net', to: 'a@example.org', text: 'x' }).catch((e: unknown) => e);
    expect(isGmailTransportError(err)).toBe(true);
    expect(err).toMatchObject({ code: 'RELAY_DENIED', retryable: false, phase: 'mail', responseCode: 550, enhancedCode: '5.7.1', strategy: 'ip-relay' });
    expect((err as { hint: string }).hint).toMatch(/SMTP relay service/);
    expect(relay.messages.at(-1)!.ehlo).toBe('example.com');
    expectNoSecret(err, [APP_PASSWORD_SENT]);
  });
});
