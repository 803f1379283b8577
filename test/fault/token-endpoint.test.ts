import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createGmailTransport, type GmailTransportConfig, type GmailTransportError, type GmailTransporter } from '../../src/index.js';
import { startRecordingServer, type RecordingServer } from '../helpers/smtp-server.js';
import { startTokenEndpoint, type BreakableTokenEndpoint, type TokenAnswer } from '../helpers/fault-token-endpoint.js';
import { expectNoSecretIn, faultMessage, startScenarioGuard } from '../helpers/fault-harness.js';
import { CLIENT_SECRET, localSmtp, oauth2Credentials, REFRESH_TOKEN, settleWithFakeTimers, uniqueClientId } from '../helpers/oauth-fixtures.js';
import { makeServiceAccountKey } from '../helpers/google-token.js';

const USER = 'me@gmail.com';
const SECRETS = [CLIENT_SECRET, REFRESH_TOKEN];
const TOKEN: TokenAnswer = { kind: 'token' };

let server: RecordingServer;
let endpoint: BreakableTokenEndpoint;
let guard: ReturnType<typeof startScenarioGuard> | undefined;

beforeAll(async () => {
  // Loaded once up front: with timers faked, a first import inside the provider's 10 s request
  // bound (the provider itself loads at the first token request) would take real time while
  // fake time races past the bound.
  await import('google-auth-library');
  await import('../../src/tokens/provider.js');
  server = await startRecordingServer({ secure: true, checkAuth: (auth) => auth.method === 'XOAUTH2' && endpoint.isValid(auth.accessToken) });
});
afterAll(() => server.close());
beforeEach(async () => {
  endpoint = await startTokenEndpoint();
  guard = startScenarioGuard();
});
afterEach(async () => {
  vi.useRealTimers();
  guard?.stop();
  await endpoint.close();
});

function transport(extra: Record<string, unknown> = {}): GmailTransporter {
  return createGmailTransport({
    ...oauth2Credentials(USER, endpoint.url),
    smtp: localSmtp(server),
    retry: false,
    ...extra,
  } as GmailTransportConfig);
}

/** Sends one message, letting faked timers (backoff, the 10 s request timeout) run. */
async function send(mailer: GmailTransporter, id: string): Promise<{ ok: true } | { ok: false; error: GmailTransportError }> {
  const sending = mailer.sendMail(faultMessage(id)).then(
    () => ({ ok: true as const }),
    (error: GmailTransportError) => ({ ok: false as const, error }),
  );
  return settleWithFakeTimers(sending, 250);
}

const deliveredSince = (before: number) => server.messages.slice(before).map((m) => String(m.parsed.headers.get('x-fault-id')));

describe('token endpoint down (connection refused)', () => {
  it('fails with a typed, retryable CONNECTION_FAILED after bounded attempts, sends nothing, and recovers once it is back', async () => {
    await endpoint.down();
    // Real timers (the backoff is under 2 s): with fake ones, the loop that advances them can
    // pass the provider's 10 s request bound while a refused connection is still being reported
    // on a loaded machine; the provider then abandons that request, which may reach the endpoint
    // once it is back and spoil the count below.
    const before = server.messages.length;
    const authBefore = server.authAttempts.length;
    const mailer = transport();
    const failed = await mailer.sendMail(faultMessage('while-down')).then(
      () => ({ ok: true as const }),
      (error: GmailTransportError) => ({ ok: false as const, error }),
    );
    expect(failed).toMatchObject({ ok: false, error: { code: 'CONNECTION_FAILED', retryable: true, phase: 'token', strategy: 'oauth2' } });
    expectNoSecretIn((failed as { error: unknown }).error, SECRETS);
    // No token, so no XOAUTH2 and no message: the login never happened.
    expect(server.authAttempts.length - authBefore).toBe(0);

    await endpoint.up();
    await mailer.sendMail(faultMessage('after-up'));
    expect(endpoint.requests).toBe(1);
    expect(deliveredSince(before)).toEqual(['after-up']);
    await guard!.finish([mailer]);
  });
});

describe('token endpoint slower than the request timeout', () => {
  it('a request that never answers is abandoned after 10 s and retried; the message goes out once, with the second token', async () => {
    endpoint.answer = (n) => (n === 1 ? { kind: 'hang' } : TOKEN);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const before = server.messages.length;
    const mailer = transport();
    expect(await send(mailer, 'slow')).toEqual({ ok: true });
    expect(endpoint.requests).toBe(2);
    const [second] = [...endpoint.issued.keys()];
    // The abandoned request is answered late: its token must not be picked up.
    endpoint.releaseHeld();
    expect(await send(mailer, 'after-late-answer')).toEqual({ ok: true });
    expect(endpoint.issued.size).toBe(2);
    expect(server.messages.slice(before).map((m) => m.auth?.accessToken)).toEqual([second, second]);
    expect(deliveredSince(before)).toEqual(['slow', 'after-late-answer']);
    vi.useRealTimers();
    await guard!.finish([mailer]);
  });

  it('an endpoint that never answers: CONNECTION_FAILED within the bound, nothing sent', async () => {
    endpoint.answer = () => ({ kind: 'hang' });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const before = server.messages.length;
    const started = Date.now();
    const mailer = transport();
    const failed = await send(mailer, 'never');
    expect(failed).toMatchObject({ ok: false, error: { code: 'CONNECTION_FAILED', retryable: true, phase: 'token' } });
    // Four attempts at most, none started after 30 s: the send fails within about 40 s.
    expect(endpoint.requests).toBeGreaterThanOrEqual(3);
    expect(endpoint.requests).toBeLessThanOrEqual(4);
    expect(Date.now() - started).toBeLessThanOrEqual(45_000);
    expect(deliveredSince(before)).toEqual([]);
    endpoint.releaseHeld();
    vi.useRealTimers();
    await guard!.finish([mailer]);
  });
});

describe('token endpoint flapping (every other request fails with 500)', () => {
  it('each refresh needs a second request, and every message is delivered once', async () => {
    endpoint.answer = (n) => (n % 2 === 1 ? { kind: 'status', status: 500, body: { error: 'internal_failure' } } : TOKEN);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const before = server.messages.length;
    const mailer = transport({ pool: true, maxConnections: 2, maxMessages: 1 });
    const ids = ['h0', 'h1', 'h2', 'h3', 'h4'];
    for (const id of ids) {
      expect(await send(mailer, id)).toEqual({ ok: true });
      // An hour later the token has expired: the next message needs a refresh.
      vi.setSystemTime(Date.now() + 3_600_000);
    }
    expect(endpoint.requests).toBe(2 * ids.length);
    expect(deliveredSince(before)).toEqual(ids);
    vi.useRealTimers();
    await guard!.finish([mailer]);
  });
});

describe('token endpoint answering 200 with garbage', () => {
  it.each<[string, TokenAnswer, string]>([
    ['a body that is not JSON', { kind: 'not-json' }, 'ya29.FAKE-TRUNCATED'],
    ['JSON without access_token', { kind: 'no-access-token' }, 'token_type'],
    ['an HTML page', { kind: 'html' }, 'Wi-Fi'],
  ])('%s: a typed, retryable TEMPORARY_FAILURE after bounded attempts, the body never echoed; then recovery', async (_title, garbage, bodyMarker) => {
    endpoint.answer = () => garbage;
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const before = server.messages.length;
    const mailer = transport();
    const failed = await send(mailer, 'garbage');
    expect(failed).toMatchObject({ ok: false, error: { code: 'TEMPORARY_FAILURE', retryable: true, phase: 'token', strategy: 'oauth2' } });
    const error = (failed as { error: GmailTransportError }).error;
    expectNoSecretIn(error, [...SECRETS, bodyMarker]);
    expect(endpoint.requests).toBe(4);

    endpoint.answer = () => TOKEN;
    expect(await send(mailer, 'healed')).toEqual({ ok: true });
    expect(deliveredSince(before)).toEqual(['healed']);
    vi.useRealTimers();
    await guard!.finish([mailer]);
  });

  it('service-account: an HTML page is the same TEMPORARY_FAILURE, the key never echoed', async () => {
    endpoint.answer = () => ({ kind: 'html' });
    const key = makeServiceAccountKey(`mailer-${uniqueClientId().slice(0, 8)}@fake-project.iam.gserviceaccount.com`);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const mailer = createGmailTransport({
      strategy: 'service-account',
      user: 'sales@example.com',
      serviceAccount: key.json,
      endpoints: { token: endpoint.url },
      smtp: localSmtp(server),
      retry: false,
    });
    const failed = await send(mailer, 'sa-garbage');
    expect(failed).toMatchObject({ ok: false, error: { code: 'TEMPORARY_FAILURE', retryable: true, phase: 'token', strategy: 'service-account' } });
    expectNoSecretIn((failed as { error: unknown }).error, [key.privateKey.split('\n')[1]!, 'Wi-Fi']);
    expect(endpoint.requests).toBe(4);
    vi.useRealTimers();
    await guard!.finish([mailer]);
  });
});
