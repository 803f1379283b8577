import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createGmailTransport, fromEnv, isGmailTransportError, type GmailTransportError } from '../../src/index.js';
import { startRecordingServer, type RecordingServer } from '../helpers/smtp-server.js';

const REFRESH = 'FAKE-REFRESH-7f3a';
const CLIENT_SECRET = 'FAKE-CLIENT-SECRET-91c2';
const PRIVATE_KEY = 'FAKE-PRIVATE-KEY-0b8d';

function thrownBy(fn: () => unknown): GmailTransportError {
  try {
    fn();
  } catch (err) {
    expect(isGmailTransportError(err)).toBe(true);
    return err as GmailTransportError;
  }
  throw new Error('expected a throw');
}

describe('fromEnv', () => {
  let dir: string;
  let server: RecordingServer;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gmail-transport-from-env-'));
    server = await startRecordingServer({ secure: true });
    await writeFile(join(dir, 'ca.pem'), server.cert);
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('builds an app-password config, inferring the strategy, and the transport it makes delivers', async () => {
    const env = {
      GMAIL_USER: 'me@gmail.com',
      GMAIL_APP_PASSWORD: ' abcd efgh ijkl mnop\n',
      GMAIL_SMTP_HOST: '127.0.0.1',
      GMAIL_SMTP_PORT: String(server.port),
      GMAIL_SMTP_SECURE: 'true',
      GMAIL_SMTP_CA_FILE: join(dir, 'ca.pem'),
      GMAIL_CLIENT_ID: 'ignored: app-password has no clientId',
      GMAIL_DOMAIN: '',
      OTHER: 'x',
    };
    const config = fromEnv(env);
    expect(config).toEqual({
      strategy: 'app-password',
      user: 'me@gmail.com',
      appPassword: 'abcd efgh ijkl mnop',
      smtp: { host: '127.0.0.1', port: server.port, secure: true, tls: { ca: [server.cert] } },
    });
    const mailer = createGmailTransport(config);
    await mailer.sendMail({ from: 'me@gmail.com', to: 'you@example.com', subject: 'env', text: 'x' });
    expect(server.messages.at(-1)!.auth).toMatchObject({ username: 'me@gmail.com', password: 'abcdefghijklmnop' });
  });

  it('maps the OAuth2 variables', () => {
    const config = fromEnv({
      GMAIL_STRATEGY: 'oauth2',
      GMAIL_USER: 'me@example.com',
      GMAIL_CLIENT_ID: '123.apps.googleusercontent.com',
      GMAIL_CLIENT_SECRET: CLIENT_SECRET,
      GMAIL_REFRESH_TOKEN: REFRESH,
      GMAIL_TOKEN_ENDPOINT: 'http://127.0.0.1:9/token',
      GMAIL_APP_PASSWORD: '',
      GMAIL_LOCALE: 'ja',
      GMAIL_POOL: 'yes',
    });
    expect(config).toEqual({
      strategy: 'oauth2',
      user: 'me@example.com',
      clientId: '123.apps.googleusercontent.com',
      clientSecret: CLIENT_SECRET,
      refreshToken: REFRESH,
      endpoints: { token: 'http://127.0.0.1:9/token' },
      locale: 'ja',
      pool: true,
    });
  });

  it('infers service-account from GMAIL_SERVICE_ACCOUNT_FILE or _JSON', () => {
    expect(fromEnv({ GMAIL_USER: 'a@example.com', GMAIL_SERVICE_ACCOUNT_FILE: '/run/secrets/sa.json' })).toEqual({
      strategy: 'service-account',
      user: 'a@example.com',
      keyFile: '/run/secrets/sa.json',
    });
    const key = { client_email: 'sa@p.iam.gserviceaccount.com', private_key: PRIVATE_KEY };
    expect(fromEnv({ GMAIL_USER: 'a@example.com', GMAIL_SERVICE_ACCOUNT_JSON: JSON.stringify(key) })).toMatchObject({
      strategy: 'service-account',
      serviceAccount: key,
    });
  });

  it('nests the login under auth for ip-relay and relay', () => {
    expect(
      fromEnv({
        GMAIL_STRATEGY: 'ip-relay',
        GMAIL_DOMAIN: 'example.com',
        GMAIL_USER: 'r@example.com',
        GMAIL_APP_PASSWORD: 'abcdefghijklmnop',
        GMAIL_PASSWORD: 'nope',
      }),
    ).toEqual({
      strategy: 'ip-relay',
      domain: 'example.com',
      auth: { user: 'r@example.com', appPassword: 'abcdefghijklmnop' },
    });
    expect(
      fromEnv({
        GMAIL_STRATEGY: 'relay',
        GMAIL_RELAY_PRESET: 'ses',
        GMAIL_RELAY_REGION: 'eu-west-1',
        GMAIL_USER: 'AKIA',
        GMAIL_PASSWORD: 'pw',
        GMAIL_APP_PASSWORD: 'abcdefghijklmnop',
        GMAIL_DOMAIN: 'example.com',
      }),
    ).toEqual({ strategy: 'relay', preset: 'ses', region: 'eu-west-1', auth: { user: 'AKIA', pass: 'pw' } });
  });

  it('takes another prefix', () => {
    expect(
      fromEnv(
        { MAILER_STRATEGY: 'app-password', MAILER_USER: 'me@gmail.com', MAILER_APP_PASSWORD: 'abcdefghijklmnop', GMAIL_USER: 'other@gmail.com' },
        'MAILER_',
      ),
    ).toEqual({
      strategy: 'app-password',
      user: 'me@gmail.com',
      appPassword: 'abcdefghijklmnop',
    });
  });

  it('reads process.env by default', () => {
    vi.stubEnv('GMAIL_STRATEGY', 'app-password');
    vi.stubEnv('GMAIL_USER', 'me@gmail.com');
    vi.stubEnv('GMAIL_APP_PASSWORD', 'abcdefghijklmnop');
    try {
      expect(fromEnv()).toMatchObject({ strategy: 'app-password', user: 'me@gmail.com' });
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('names every unusable variable in one CONFIG_INVALID, never its value', () => {
    const err = thrownBy(() =>
      fromEnv({
        GMAIL_STRATEGY: 'service-account',
        GMAIL_SERVICE_ACCOUNT_JSON: `{"private_key": "${PRIVATE_KEY}"`,
        GMAIL_SMTP_PORT: '46five',
        GMAIL_SMTP_SECURE: 'maybe',
        GMAIL_SMTP_CA_FILE: join(dir, 'missing.pem'),
      }),
    );
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.issues!.map((i) => i.path).sort()).toEqual(['GMAIL_SERVICE_ACCOUNT_JSON', 'GMAIL_SMTP_CA_FILE', 'GMAIL_SMTP_PORT', 'GMAIL_SMTP_SECURE']);
    expect(err.issues!.find((i) => i.path === 'GMAIL_SMTP_CA_FILE')!.message).toMatch(/cannot be read \(ENOENT\)/);
    const text = `${String(err)} ${JSON.stringify(err)} ${inspect(err)}`;
    expect(text).not.toContain(PRIVATE_KEY);
    expect(text).not.toContain('46five');
  });

  it('asks for GMAIL_STRATEGY when the credentials do not tell', () => {
    for (const env of [{}, { GMAIL_REFRESH_TOKEN: REFRESH, GMAIL_APP_PASSWORD: 'abcdefghijklmnop' }]) {
      const err = thrownBy(() => fromEnv(env));
      expect(err.code).toBe('CONFIG_INVALID');
      expect(err.issues).toHaveLength(1);
      expect(err.issues![0]!.path).toBe('GMAIL_STRATEGY');
      expect(`${String(err)} ${JSON.stringify(err)}`).not.toContain(REFRESH);
    }
  });
});
