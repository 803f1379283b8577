import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { setupServer } from 'msw/node';
import { createGmailTransport, isGmailTransportError, type GmailTransportConfig, type TransportEvents } from '../../src/index.js';
import { startRecordingServer, type RecordingServer } from '../helpers/smtp-server.js';
import { TokenAuthority, makeServiceAccountKey, tokenFixture } from '../helpers/google-token.js';
import { CLIENT_SECRET, REFRESH_TOKEN, localSmtp, uniqueClientId } from '../helpers/oauth-fixtures.js';
import { expectNoSecret } from '../contract/strategy.js';

const USER = 'me@gmail.com';
const msw = setupServer();
let authority = new TokenAuthority();
let server: RecordingServer;
const saKey = makeServiceAccountKey();
const SECRETS = [CLIENT_SECRET, REFRESH_TOKEN, saKey.privateKey, saKey.privateKey.split('\n')[1]!];

beforeAll(async () => {
  msw.listen({ onUnhandledRequest: 'error' });
  server = await startRecordingServer({ secure: true });
});
beforeEach(() => {
  authority = new TokenAuthority();
  msw.resetHandlers(authority.handler());
});
afterAll(async () => {
  msw.close();
  await server.close();
});

function oauth2(): GmailTransportConfig {
  return { strategy: 'oauth2', user: USER, clientId: uniqueClientId(), clientSecret: CLIENT_SECRET, refreshToken: REFRESH_TOKEN, smtp: localSmtp(server) };
}

function serviceAccount(): GmailTransportConfig {
  return {
    strategy: 'service-account',
    user: 'staff@example.com',
    serviceAccount: { ...saKey.json, client_email: `${uniqueClientId()}@x.iam.gserviceaccount.com` },
    smtp: localSmtp(server),
  };
}

/** Sends one message and returns the error, with the events seen on the way. */
async function failingSend(config: GmailTransportConfig) {
  const mailer = createGmailTransport(config);
  const events: unknown[] = [];
  for (const name of ['token', 'warning', 'retry'] as const) mailer.on(name, (e: TransportEvents[typeof name]) => events.push(e));
  const before = server.messages.length;
  const err = await mailer.sendMail({ from: USER, to: 'you@example.com', text: 'x' }).catch((e: unknown) => e);
  expect(server.messages.length).toBe(before);
  mailer.close();
  return { err, events };
}

describe('token endpoint errors are final, typed and carry no secret', () => {
  const cases = [
    { fixture: 'token-400-invalid-grant-bad-request', code: 'OAUTH_INVALID_GRANT', hint: /npx gmail-transport auth/ },
    { fixture: 'token-400-invalid-grant-invalid-rapt', code: 'OAUTH_INVALID_GRANT', hint: /7 days/ },
    { fixture: 'token-401-invalid-client-unauthorized', code: 'OAUTH_INVALID_CLIENT', hint: /clientId and clientSecret/ },
    { fixture: 'token-400-invalid-request-no-client-id', code: 'OAUTH_INVALID_CLIENT', hint: /clientId/ },
    { fixture: 'token-401-unauthorized-client-or-scope', code: 'OAUTH_SCOPE_DENIED', hint: /https:\/\/mail\.google\.com\// },
    { fixture: 'token-400-invalid-scope', code: 'OAUTH_SCOPE_DENIED', hint: /delegation/ },
  ] as const;

  for (const c of cases) {
    it(`${c.fixture} → ${c.code}, not retried (refresh token)`, async () => {
      const reply = tokenFixture(c.fixture);
      authority.behaviour = { kind: 'reply', status: reply.status, body: reply.body };
      const { err, events } = await failingSend(oauth2());
      expect(isGmailTransportError(err)).toBe(true);
      expect(err).toMatchObject({ code: c.code, retryable: false, phase: 'token', strategy: 'oauth2', httpStatus: reply.status, reason: reply.body.error });
      expect((err as { hint: string }).hint).toMatch(c.hint);
      expect(authority.requests).toHaveLength(1);
      expect(events.filter((e) => (e as { attempt?: number }).attempt !== undefined)).toEqual([]);
      expectNoSecret(err, SECRETS);
      expect(JSON.stringify(events)).not.toContain(REFRESH_TOKEN);
    });
  }

  it('invalid_grant names every cause in its hint', async () => {
    authority.behaviour = { kind: 'reply', status: 400, body: { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' } };
    const { err } = await failingSend(oauth2());
    expect(err).toMatchObject({ code: 'OAUTH_INVALID_GRANT' });
    expect((err as Error).message).toContain('Token has been expired or revoked.');
    const hint = (err as { hint: string }).hint;
    for (const cause of [/revoked/, /password/, /6 months/, /Testing/, /7 days/, /npx gmail-transport auth/]) expect(hint).toMatch(cause);
  });

  it('an error_description that echoes a secret is left out of the message', async () => {
    authority.behaviour = { kind: 'reply', status: 400, body: { error: 'invalid_grant', error_description: `bad token ${REFRESH_TOKEN}` } };
    const { err } = await failingSend(oauth2());
    expect(err).toMatchObject({ code: 'OAUTH_INVALID_GRANT' });
    expectNoSecret(err, SECRETS);
  });

  it('issue 25: terminal control characters are taken out of the endpoint text, and an `error` echoing a secret is dropped', async () => {
    authority.behaviour = {
      kind: 'reply',
      status: 400,
      body: { error: 'invalid_grant', error_description: 'Token \u001b[2Jhas been\r expired\u009b31m \u202eor revoked.\u0007' },
    };
    const { err } = await failingSend(oauth2());
    expect(err).toMatchObject({ code: 'OAUTH_INVALID_GRANT', reason: 'invalid_grant' });
    const message = (err as Error).message;
    expect(message).toContain('Token [2Jhas been expired31m or revoked.');
    expect(message).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);

    authority.behaviour = { kind: 'reply', status: 400, body: { error: `invalid ${REFRESH_TOKEN}`, error_description: 'x' } };
    const echoed = await failingSend(oauth2());
    expect(echoed.err).toMatchObject({ code: 'PERMANENT_FAILURE', httpStatus: 400 });
    expect((echoed.err as { reason?: unknown }).reason).toBeUndefined();
    expectNoSecret(echoed.err, SECRETS);
  });

  it('service account: invalid_grant gets the key/clock/user hint, unauthorized_client the delegation hint', async () => {
    authority.behaviour = { kind: 'reply', status: 400, body: { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' } };
    const first = await failingSend(serviceAccount());
    expect(first.err).toMatchObject({ code: 'OAUTH_INVALID_GRANT', retryable: false, strategy: 'service-account' });
    expect((first.err as { hint: string }).hint).toMatch(/key/);
    expectNoSecret(first.err, SECRETS);

    const reply = tokenFixture('token-401-unauthorized-client-or-scope');
    authority.behaviour = { kind: 'reply', status: reply.status, body: reply.body };
    const second = await failingSend(serviceAccount());
    expect(second.err).toMatchObject({ code: 'OAUTH_SCOPE_DENIED', retryable: false });
    expect((second.err as { hint: string }).hint).toMatch(/domain-wide delegation/);
    expectNoSecret(second.err, SECRETS);
  });

  it('hints follow the transport locale', async () => {
    authority.behaviour = { kind: 'reply', status: 400, body: { error: 'invalid_grant' } };
    const { err } = await failingSend({ ...oauth2(), locale: 'ja' } as GmailTransportConfig);
    expect((err as { hint: string }).hint).toMatch(/npx gmail-transport auth/);
    expect((err as { hint: string }).hint).toMatch(/リフレッシュ/);
  });

  it('verify() reports the token failure the same way', async () => {
    authority.behaviour = { kind: 'reply', status: 400, body: { error: 'invalid_grant' } };
    const mailer = createGmailTransport(oauth2());
    const err = await mailer.verify().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'OAUTH_INVALID_GRANT', retryable: false });
    expectNoSecret(err, SECRETS);
    mailer.close();
  });
});
