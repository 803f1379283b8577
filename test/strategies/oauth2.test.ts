import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { setupServer } from 'msw/node';
import { createGmailTransport, isGmailTransportError, type TransportEvents } from '../../src/index.js';
import { startRecordingServer, type RecordingServer } from '../helpers/smtp-server.js';
import { TokenAuthority } from '../helpers/google-token.js';
import { CLIENT_SECRET, REFRESH_TOKEN, localSmtp, uniqueClientId } from '../helpers/oauth-fixtures.js';
import { expectNoSecret, runStrategyContract } from '../contract/strategy.js';

const USER = 'me@gmail.com';
const msw = setupServer();
let authority = new TokenAuthority();
const SECRETS = [CLIENT_SECRET, REFRESH_TOKEN];

beforeAll(() => msw.listen({ onUnhandledRequest: 'error' }));
beforeEach(() => {
  authority = new TokenAuthority();
  msw.resetHandlers(authority.handler());
});
afterAll(() => msw.close());

function config(server: RecordingServer, extra: Record<string, unknown> = {}) {
  return {
    strategy: 'oauth2' as const,
    user: USER,
    clientId: uniqueClientId(),
    clientSecret: CLIENT_SECRET,
    refreshToken: REFRESH_TOKEN,
    smtp: localSmtp(server),
    ...extra,
  };
}

runStrategyContract('oauth2', {
  server: { secure: true },
  config: (server) => config(server),
  readmeConfig: { user: 1, clientId: 1, clientSecret: 1, refreshToken: 1 },
  secrets: SECRETS,
  invalid: [
    { title: 'no refresh token', config: (s) => ({ ...config(s), refreshToken: undefined }), paths: ['refreshToken'] },
    { title: 'no client id or secret', config: (s) => ({ ...config(s), clientId: undefined, clientSecret: '' }), paths: ['clientId', 'clientSecret'] },
    { title: 'user is not an address', config: (s) => ({ ...config(s), user: 'me' }), paths: ['user'] },
    { title: 'an access token given as refresh token', config: (s) => ({ ...config(s), refreshToken: 'ya29.FAKE-ACCESS-given' }), paths: ['refreshToken'] },
    { title: 'service account fields on oauth2', config: (s) => ({ ...config(s), keyFile: '/tmp/key.json' }), paths: ['keyFile'] },
    {
      title: 'token endpoint over plain http to a remote host',
      config: (s) => ({ ...config(s), endpoints: { token: 'http://tokens.example.com/token' } }),
      paths: ['endpoints.token'],
    },
    { title: 'unknown endpoint', config: (s) => ({ ...config(s), endpoints: { gmailApi: 'https://example.com' } }), paths: ['endpoints.gmailApi'] },
    { title: 'a token store without delete', config: (s) => ({ ...config(s), tokenStore: { get() {}, set() {} } }), paths: ['tokenStore'] },
    { title: 'a short encryption key', config: (s) => ({ ...config(s), tokenEncryptionKey: 'FAKE-short-key' }), paths: ['tokenEncryptionKey'] },
    { title: 'a skew longer than half an hour', config: (s) => ({ ...config(s), eagerRefreshMs: 3_600_000 }), paths: ['eagerRefreshMs'] },
    { title: 'empty scopes', config: (s) => ({ ...config(s), scopes: [] }), paths: ['scopes'] },
  ],
});

describe('oauth2 strategy', () => {
  let server: RecordingServer;
  beforeAll(async () => {
    server = await startRecordingServer({ secure: true, checkAuth: (auth) => auth.method === 'XOAUTH2' && authority.isValid(auth.accessToken) });
  });
  afterAll(() => server.close());

  it('refreshes an access token and logs in with XOAUTH2 as the user', async () => {
    const mailer = createGmailTransport(config(server));
    const tokens: TransportEvents['token'][] = [];
    mailer.on('token', (e) => tokens.push(e));
    await mailer.sendMail({ from: USER, to: 'you@example.com', subject: 'oauth', text: 'hello' });

    expect(authority.requests).toHaveLength(1);
    expect(authority.requests[0]!.fields).toMatchObject({ grant_type: 'refresh_token', refresh_token: REFRESH_TOKEN, client_secret: CLIENT_SECRET });
    const got = server.messages.at(-1)!;
    expect(got.auth).toMatchObject({ method: 'XOAUTH2', username: USER, accessToken: authority.issued[0] });
    expect(got.parsed.subject).toBe('oauth');
    expect(tokens).toHaveLength(1);
    expect(tokens[0]).toEqual({ strategy: 'oauth2', user: USER, expiresAt: expect.any(Number), source: 'endpoint' });
    expect(tokens[0]!.expiresAt).toBeGreaterThan(Date.now() + 3_500_000);
    expect(JSON.stringify(tokens)).not.toContain(authority.issued[0]);
    mailer.close();
  });

  it('sends its token requests to endpoints.token (plain http allowed to loopback)', async () => {
    const google = new TokenAuthority();
    msw.use(google.handler(), authority.handler('http://127.0.0.1:9/token'));
    const mailer = createGmailTransport(config(server, { endpoints: { token: 'http://127.0.0.1:9/token' } }));
    await mailer.sendMail({ from: USER, to: 'you@example.com', text: 'x' });
    expect(authority.requests).toHaveLength(1);
    expect(google.requests).toHaveLength(0);
    expect(server.messages.at(-1)!.auth?.accessToken).toBe(authority.issued[0]);
    mailer.close();
  });

  it('answers a token refused by the server with one forced refresh, and never loops', async () => {
    const mailer = createGmailTransport(config(server, { retry: false }));
    // Every token is refused: nodemailer asks once more with renew=true, then gives up.
    authority.isValid = () => false;
    const err = await mailer.sendMail({ from: USER, to: 'you@example.com', text: 'x' }).catch((e: unknown) => e);
    expect(isGmailTransportError(err)).toBe(true);
    expect(err).toMatchObject({ code: 'OAUTH_TOKEN_REJECTED', retryable: false, phase: 'auth', strategy: 'oauth2' });
    expect(authority.requests).toHaveLength(2);
    const attempts = server.authAttempts.slice(-2);
    expect(attempts.map((a) => a.accessToken)).toEqual(authority.issued);
    expectNoSecret(err, [...SECRETS, ...authority.issued]);
    mailer.close();
  });

  it('ip-relay accepts oauth2 credentials in place of an app password', async () => {
    const relay = await startRecordingServer({ checkAuth: (auth) => auth.method === 'XOAUTH2' && authority.isValid(auth.accessToken) });
    try {
      const mailer = createGmailTransport({
        strategy: 'ip-relay',
        domain: 'example.com',
        auth: { type: 'oauth2', user: 'relay@example.com', clientId: uniqueClientId(), clientSecret: CLIENT_SECRET, refreshToken: REFRESH_TOKEN },
        smtp: { host: '127.0.0.1', port: relay.port, tls: { ca: [relay.cert] } },
      });
      await mailer.sendMail({ from: 'relay@example.com', to: 'you@example.com', text: 'x' });
      const got = relay.messages.at(-1)!;
      expect(got.startTls).toBe(true);
      expect(got.ehlo).toBe('example.com');
      expect(got.auth).toMatchObject({ method: 'XOAUTH2', username: 'relay@example.com', accessToken: authority.issued[0] });
      mailer.close();
    } finally {
      await relay.close();
    }
  });

  it('ip-relay reports bad oauth2 credentials under auth.*, and keeps the app-password form', () => {
    const err = (() => {
      try {
        createGmailTransport({
          strategy: 'ip-relay',
          domain: 'example.com',
          auth: { type: 'oauth2', user: 'relay@example.com', clientId: 'x', clientSecret: CLIENT_SECRET } as never,
        });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toMatchObject({ code: 'CONFIG_INVALID' });
    expect((err as { issues: { path: string }[] }).issues.map((i) => i.path)).toEqual(['auth.refreshToken']);
    expectNoSecret(err, SECRETS);
    expect(() =>
      createGmailTransport({ strategy: 'ip-relay', domain: 'example.com', auth: { user: 'relay@example.com', appPassword: 'abcd efgh ijkl mnop' } }),
    ).not.toThrow();
    expect(() => createGmailTransport({ strategy: 'ip-relay', domain: 'example.com', auth: { type: 'telepathy', user: 'a@b.co' } as never })).toThrow(
      /auth\.type/,
    );
  });
});
