import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { setupServer } from 'msw/node';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGmailTransport, type GmailTransportConfig } from '../../src/index.js';
import { startRecordingServer, type RecordingServer } from '../helpers/smtp-server.js';
import { TokenAuthority, makeServiceAccountKey, GOOGLE_TOKEN_URL } from '../helpers/google-token.js';
import { localSmtp, uniqueClientId } from '../helpers/oauth-fixtures.js';
import { expectNoSecret, runStrategyContract } from '../contract/strategy.js';

const MAILBOX = 'staff@example.com';
const key = makeServiceAccountKey();
const other = makeServiceAccountKey();
const PEM_BODY = key.privateKey.split('\n')[1]!;
const SECRETS = [key.privateKey, PEM_BODY];
const msw = setupServer();
let authority = new TokenAuthority();
const dir = mkdtempSync(join(tmpdir(), 'gmail-transport-sa-'));

beforeAll(() => msw.listen({ onUnhandledRequest: 'error' }));
beforeEach(() => {
  authority = new TokenAuthority();
  authority.publicKey = key.publicKey;
  msw.resetHandlers(authority.handler());
});
afterAll(() => {
  msw.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A key JSON with a client_email no other test uses (providers are shared process-wide). */
function keyJson(overrides: Record<string, unknown> = {}) {
  return { ...key.json, client_email: `${uniqueClientId().slice(0, 12)}@fake-project.iam.gserviceaccount.com`, ...overrides };
}

function config(server: RecordingServer, extra: Record<string, unknown> = {}): GmailTransportConfig {
  return { strategy: 'service-account', user: MAILBOX, serviceAccount: keyJson(), smtp: localSmtp(server), ...extra } as GmailTransportConfig;
}

runStrategyContract('service-account', {
  server: { secure: true },
  config: (server) => config(server),
  readmeConfig: { user: 1, keyFile: 1 },
  secrets: SECRETS,
  invalid: [
    { title: 'no key at all', config: (s) => ({ ...config(s), serviceAccount: undefined }), paths: ['serviceAccount'] },
    { title: 'both serviceAccount and keyFile', config: (s) => ({ ...config(s), keyFile: join(dir, 'k.json') }), paths: ['keyFile'] },
    {
      title: 'a key without private_key',
      config: (s) => ({ ...config(s), serviceAccount: keyJson({ private_key: undefined }) }),
      paths: ['serviceAccount.private_key'],
    },
    {
      title: 'a private key that is not PEM',
      config: (s) => ({ ...config(s), serviceAccount: keyJson({ private_key: `garbage ${PEM_BODY}` }) }),
      paths: ['serviceAccount.private_key'],
    },
    {
      title: 'an OAuth client file instead of a key',
      config: (s) => ({ ...config(s), serviceAccount: { ...keyJson(), type: 'authorized_user' } }),
      paths: ['serviceAccount.type'],
    },
    {
      title: 'a key file that does not exist',
      config: (s) => ({ ...config(s), serviceAccount: undefined, keyFile: join(dir, 'missing.json') }),
      paths: ['keyFile'],
    },
    {
      title: 'key JSON text that does not parse',
      config: (s) => ({ ...config(s), serviceAccount: `{"private_key": "${PEM_BODY}"` }),
      paths: ['serviceAccount'],
    },
    { title: 'no mailbox to impersonate', config: (s) => ({ ...config(s), user: undefined }), paths: ['user'] },
    { title: 'refresh-token fields on service-account', config: (s) => ({ ...config(s), refreshToken: '1//x' }), paths: ['refreshToken'] },
  ],
});

describe('service-account strategy', () => {
  let server: RecordingServer;
  beforeAll(async () => {
    server = await startRecordingServer({ secure: true, checkAuth: (auth) => auth.method === 'XOAUTH2' && authority.isValid(auth.accessToken) });
  });
  afterAll(() => server.close());

  it('signs a JWT-bearer assertion for the mailbox (sub), from the service account (iss), for https://mail.google.com/', async () => {
    const sa = keyJson();
    const mailer = createGmailTransport(config(server, { serviceAccount: sa }));
    await mailer.sendMail({ from: MAILBOX, to: 'you@example.com', subject: 'delegated', text: 'x' });
    expect(authority.requests).toHaveLength(1);
    const request = authority.requests[0]!;
    expect(request.grantType).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
    expect(request.signatureValid).toBe(true);
    expect(request.claims).toMatchObject({ iss: sa.client_email, sub: MAILBOX, scope: 'https://mail.google.com/', aud: GOOGLE_TOKEN_URL });
    const now = Math.floor(Date.now() / 1000);
    expect(request.claims!.iat).toBeGreaterThanOrEqual(now - 60);
    expect(request.claims!.exp).toBe((request.claims!.iat as number) + 3600);
    expect(server.messages.at(-1)!.auth).toMatchObject({ method: 'XOAUTH2', username: MAILBOX, accessToken: authority.issued[0] });
    mailer.close();
  });

  it('a signature from another key does not verify (the check above can fail)', async () => {
    authority.publicKey = other.publicKey;
    const mailer = createGmailTransport(config(server));
    await mailer.sendMail({ from: MAILBOX, to: 'you@example.com', text: 'x' });
    expect(authority.requests[0]!.signatureValid).toBe(false);
    mailer.close();
  });

  it('reads the key from keyFile, or from the JSON text', async () => {
    const sa = keyJson();
    const file = join(dir, 'key.json');
    writeFileSync(file, JSON.stringify(sa), { mode: 0o600 });
    const fromFile = createGmailTransport({ strategy: 'service-account', user: MAILBOX, keyFile: file, smtp: localSmtp(server) });
    await fromFile.sendMail({ from: MAILBOX, to: 'you@example.com', text: 'x' });
    const fromText = createGmailTransport({
      strategy: 'service-account',
      user: 'other@example.com',
      serviceAccount: JSON.stringify(sa),
      smtp: localSmtp(server),
    });
    await fromText.sendMail({ from: 'other@example.com', to: 'you@example.com', text: 'x' });
    expect(authority.requests.map((r) => [r.claims!.iss, r.claims!.sub, r.signatureValid])).toEqual([
      [sa.client_email, MAILBOX, true],
      [sa.client_email, 'other@example.com', true],
    ]);
    fromFile.close();
    fromText.close();
  });

  it('each impersonated mailbox gets its own token; one mailbox shares one', async () => {
    const sa = keyJson();
    const a1 = createGmailTransport(config(server, { serviceAccount: sa }));
    const a2 = createGmailTransport(config(server, { serviceAccount: sa, pool: true }));
    const b = createGmailTransport(config(server, { serviceAccount: sa, user: 'sales@example.com' }));
    await Promise.all([a1, a2].map((m) => m.sendMail({ from: MAILBOX, to: 'you@example.com', text: 'x' })));
    await b.sendMail({ from: 'sales@example.com', to: 'you@example.com', text: 'x' });
    expect(authority.requests.map((r) => r.claims!.sub)).toEqual([MAILBOX, 'sales@example.com']);
    for (const m of [a1, a2, b]) m.close();
  });

  it('custom scopes are asked for as given', async () => {
    const mailer = createGmailTransport(config(server, { scopes: ['https://mail.google.com/', 'https://www.googleapis.com/auth/gmail.send'] }));
    await mailer.sendMail({ from: MAILBOX, to: 'you@example.com', text: 'x' });
    expect(authority.requests[0]!.claims!.scope).toBe('https://mail.google.com/ https://www.googleapis.com/auth/gmail.send');
    mailer.close();
  });

  it('posts the assertion to endpoints.token when set, keeping Google as the audience', async () => {
    msw.resetHandlers(authority.handler('https://token-proxy.example.com/token'));
    const mailer = createGmailTransport(config(server, { endpoints: { token: 'https://token-proxy.example.com/token' } }));
    await mailer.sendMail({ from: MAILBOX, to: 'you@example.com', text: 'x' });
    expect(authority.requests).toHaveLength(1);
    expect(authority.requests[0]!.claims!.aud).toBe(GOOGLE_TOKEN_URL);
    mailer.close();
  });

  it('ip-relay accepts service-account credentials', async () => {
    const relay = await startRecordingServer({ checkAuth: (auth) => auth.method === 'XOAUTH2' && authority.isValid(auth.accessToken) });
    try {
      const mailer = createGmailTransport({
        strategy: 'ip-relay',
        domain: 'example.com',
        auth: { type: 'service-account', user: MAILBOX, serviceAccount: keyJson() },
        smtp: { host: '127.0.0.1', port: relay.port, tls: { ca: [relay.cert] } },
      });
      await mailer.sendMail({ from: MAILBOX, to: 'you@example.com', text: 'x' });
      expect(relay.messages.at(-1)!.auth).toMatchObject({ method: 'XOAUTH2', username: MAILBOX, accessToken: authority.issued[0] });
      expect(authority.requests[0]!.claims!.sub).toBe(MAILBOX);
      mailer.close();
    } finally {
      await relay.close();
    }
  });

  it('config errors about the key never contain it', () => {
    let thrown: unknown;
    try {
      createGmailTransport({ strategy: 'service-account', user: MAILBOX, serviceAccount: keyJson({ private_key: key.privateKey.replace('BEGIN', 'BEGAN') }) });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toMatchObject({ code: 'CONFIG_INVALID' });
    expectNoSecret(thrown, SECRETS);
  });
});
