import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createGmailTransport, type GmailTransportConfig, type GmailTransporter, type TransportEvents } from '../../src/index.js';
import { testCert } from '../helpers/certs.js';
import { PASS, drop, reply421, stall, type DropPoint, type Fault, type Reply421Point, type StallPoint } from '../helpers/fault-proxy.js';
import { duplicates, expectNoSecretIn, sendAll, startFaultHarness, startScenarioGuard, type FaultHarness } from '../helpers/fault-harness.js';
import { startTokenEndpoint, type BreakableTokenEndpoint } from '../helpers/fault-token-endpoint.js';
import { CLIENT_SECRET, oauth2Credentials, REFRESH_TOKEN } from '../helpers/oauth-fixtures.js';
import { SECRETS } from '../helpers/replay.js';

const FAST_RETRY = { attempts: 3, minDelayMs: 1, maxDelayMs: 5, maxElapsedMs: 20_000 };
const ALL_SECRETS = [CLIENT_SECRET, REFRESH_TOKEN, SECRETS.appPassword];
// Larger than every socket buffer between client and proxy: when the proxy cuts after 64 KiB of
// body, the client cannot yet have handed the final dot to its socket.
const BIG = Buffer.alloc(12 * 1024 * 1024, 0x61);

let tokens: BreakableTokenEndpoint;
let harnesses: FaultHarness[] = [];
let guard: ReturnType<typeof startScenarioGuard> | undefined;

beforeAll(async () => {
  tokens = await startTokenEndpoint();
});
afterAll(() => tokens.close());
afterEach(async () => {
  guard?.stop();
  guard = undefined;
  await Promise.all(harnesses.map((h) => h.close()));
  harnesses = [];
});

async function harness(plan: Fault | ((n: number) => Fault), cert?: { expired?: boolean; host?: string }): Promise<FaultHarness> {
  const h = await startFaultHarness({
    plan,
    ...(cert ? { cert: await testCert(cert) } : {}),
    server: { checkAuth: (auth) => (auth.method === 'XOAUTH2' ? tokens.isValid(auth.accessToken) : auth.password === SECRETS.appPassword) },
  });
  harnesses.push(h);
  return h;
}

function oauth2(h: FaultHarness, extra: Record<string, unknown> = {}): GmailTransportConfig {
  return {
    ...oauth2Credentials(SECRETS.user, tokens.url),
    smtp: h.smtp(),
    retry: FAST_RETRY,
    ...extra,
  } as GmailTransportConfig;
}

function appPassword(h: FaultHarness, extra: Record<string, unknown> = {}): GmailTransportConfig {
  const { smtp, ...rest } = extra;
  return {
    strategy: 'app-password',
    user: SECRETS.user,
    appPassword: SECRETS.appPassword,
    smtp: h.smtp(smtp as Record<string, unknown>),
    retry: FAST_RETRY,
    ...rest,
  } as GmailTransportConfig;
}

function withRetries(mailer: GmailTransporter): TransportEvents['retry'][] {
  const retries: TransportEvents['retry'][] = [];
  mailer.on('retry', (e) => retries.push(e));
  return retries;
}

const sorted = (ids: readonly string[]) => [...ids].sort();
const onlyFirst = (fault: Fault) => (n: number) => (n === 0 ? fault : PASS);

describe('a connection cut at each point of the session (oauth2, pooled)', () => {
  // Before the final dot left, the server cannot have the message: retried, delivered once.
  // After it left, nobody knows: DELIVERY_UNCERTAIN, never retried, whatever the server did.
  it.each<[DropPoint, 'retried' | 'uncertain, server has it' | 'uncertain, server never got it']>([
    ['before-greeting', 'retried'],
    ['after-ehlo', 'retried'],
    ['after-auth', 'retried'],
    ['mid-data', 'retried'],
    ['after-dot', 'uncertain, server has it'],
    ['dot-lost', 'uncertain, server never got it'],
  ])('dropped %s: %s; then 5 more messages, each delivered exactly once', async (point, expected) => {
    const h = await harness(onlyFirst(drop(point, point === 'mid-data' ? 64 * 1024 : undefined)));
    const requestsBefore = tokens.requests;
    guard = startScenarioGuard();
    const mailer = createGmailTransport(oauth2(h, { pool: true, maxConnections: 3 }));
    const retries = withRetries(mailer);

    const [first] = await sendAll(mailer, ['first'], () => (point === 'mid-data' ? { attachments: [{ filename: 'big.txt', content: BIG }] } : {}));
    const rest = await sendAll(mailer, ['m1', 'm2', 'm3', 'm4', 'm5']);

    expect(h.proxy.connections[0]!.outcome).toBe(`injected:drop-${point}`);
    expect(rest.every((o) => o.ok)).toBe(true);
    expect(duplicates(h.delivered())).toEqual([]);
    if (expected === 'retried') {
      expect(first).toEqual({ id: 'first', ok: true });
      expect(retries).toEqual([expect.objectContaining({ strategy: 'oauth2', attempt: 1, code: 'CONNECTION_FAILED' })]);
      expect(sorted(h.delivered())).toEqual(['first', 'm1', 'm2', 'm3', 'm4', 'm5']);
    } else {
      expect(first!.ok).toBe(false);
      const err = (first as { error: import('../../src/index.js').GmailTransportError }).error;
      expect(err).toMatchObject({
        code: 'DELIVERY_UNCERTAIN',
        retryable: false,
        phase: 'data',
        strategy: 'oauth2',
        messageId: expect.stringMatching(/^<.+>$/),
      });
      expectNoSecretIn(err, [...ALL_SECRETS, ...tokens.issued.keys()]);
      expect(retries).toEqual([]);
      expect(sorted(h.delivered())).toEqual(expected === 'uncertain, server has it' ? ['first', 'm1', 'm2', 'm3', 'm4', 'm5'] : ['m1', 'm2', 'm3', 'm4', 'm5']);
    }
    // Every reconnection logged in with the token already held: one request in all.
    expect(tokens.requests - requestsBefore).toBe(1);
    await guard.finish([mailer], [h.proxy]);
  });
});

describe('a server that stops answering, past each timeout', () => {
  // Distinct values, so that the timer named in the error is the one the stall was meant to trip.
  const TIMEOUTS = { connectionTimeoutMs: 1_000, greetingTimeoutMs: 300, socketTimeoutMs: 500 };
  // nodemailer's own words for each timer, on the error's `cause`.
  it.each<[StallPoint, RegExp, 'retried' | 'uncertain']>([
    ['handshake', /Connection timeout/, 'retried'],
    ['greeting', /Greeting never received/, 'retried'],
    ['after-ehlo', /^Timeout$/, 'retried'],
    ['dot-reply', /^Timeout$/, 'uncertain'],
  ])('stalled at %s: the timer fires (%s); %s, delivered at most once', async (point, timer, expected) => {
    // The first two connections stall: one for a transport without retries (to read its
    // error), one for a pooled transport with retries (to see it recover or refrain).
    const h = await harness((n) => (n <= 1 ? stall(point) : PASS));
    guard = startScenarioGuard();
    const single = createGmailTransport(appPassword(h, { retry: false, smtp: TIMEOUTS }));
    const pooled = createGmailTransport(appPassword(h, { pool: true, maxConnections: 1, smtp: TIMEOUTS }));
    const retries = withRetries(pooled);
    const [[alone], [retried]] = await Promise.all([sendAll(single, ['alone']), sendAll(pooled, ['pooled'])]);

    expect(h.proxy.connections.slice(0, 2).map((c) => c.outcome)).toEqual([`injected:stall-${point}`, `injected:stall-${point}`]);
    expect(alone!.ok).toBe(false);
    const err = (alone as { error: import('../../src/index.js').GmailTransportError }).error;
    expect((err.cause as Error).message).toMatch(timer);
    expectNoSecretIn(err, ALL_SECRETS);
    if (expected === 'retried') {
      expect(err).toMatchObject({ code: 'CONNECTION_FAILED', retryable: true, phase: 'connect' });
      expect(retried).toEqual({ id: 'pooled', ok: true });
      expect(retries).toEqual([expect.objectContaining({ attempt: 1, code: 'CONNECTION_FAILED' })]);
      expect(h.delivered()).toEqual(['pooled']);
    } else {
      // The server has both messages; neither was sent again.
      expect(err).toMatchObject({ code: 'DELIVERY_UNCERTAIN', retryable: false, phase: 'data' });
      expect(retried).toMatchObject({ ok: false, error: { code: 'DELIVERY_UNCERTAIN' } });
      expect(retries).toEqual([]);
      expect(sorted(h.delivered())).toEqual(['alone', 'pooled']);
    }
    await guard.finish([single, pooled], [h.proxy]);
  });
});

describe('421 storms', () => {
  const POINTS: Reply421Point[] = ['greeting', 'ehlo', 'mail', 'dot'];

  it('ten connections refused with 421 at every point of the session, then recovery: 40 messages, each delivered exactly once', async () => {
    const h = await harness((n) => (n < 10 ? reply421(POINTS[n % POINTS.length]!) : PASS));
    guard = startScenarioGuard();
    const mailer = createGmailTransport(appPassword(h, { pool: true, maxConnections: 5, retry: { ...FAST_RETRY, attempts: 8 } }));
    const retries = withRetries(mailer);
    const ids = Array.from({ length: 40 }, (_, i) => `s${i}`);
    const outcomes = await sendAll(mailer, ids);

    expect(outcomes.filter((o) => !o.ok)).toEqual([]);
    expect(sorted(h.delivered())).toEqual(sorted(ids));
    expect(duplicates(h.delivered())).toEqual([]);
    const injected = h.proxy.connections.filter((c) => c.outcome?.startsWith('injected:421-'));
    expect(injected).toHaveLength(10);
    // Each refused connection failed at most the one message it carried, and each failure was retried.
    expect(retries.length).toBeGreaterThan(0);
    expect(retries.length).toBeLessThanOrEqual(10);
    expect(new Set(retries.map((r) => r.code))).toEqual(new Set(['TEMPORARY_FAILURE']));
    await guard.finish([mailer], [h.proxy]);
  });

  it('a storm that outlasts the retries: TEMPORARY_FAILURE, retryable, nothing delivered, nothing lost silently', async () => {
    const h = await harness(reply421('dot'));
    guard = startScenarioGuard();
    const mailer = createGmailTransport(appPassword(h));
    const retries = withRetries(mailer);
    const [outcome] = await sendAll(mailer, ['doomed']);
    expect(outcome).toMatchObject({ ok: false, error: { code: 'TEMPORARY_FAILURE', retryable: true, phase: 'data', responseCode: 421 } });
    expect(h.proxy.connections).toHaveLength(FAST_RETRY.attempts);
    expect(retries.map((r) => r.attempt)).toEqual([1, 2]);
    expect(h.delivered()).toEqual([]);
    await guard.finish([mailer], [h.proxy]);
  });
});

describe('a certificate the client must refuse', () => {
  it.each([
    ['expired', { expired: true }],
    ['for another host', { host: 'mail.example.org' }],
  ] as const)('%s: TLS_FAILED, not retried, not a byte of SMTP (or a credential) sent', async (_title, cert) => {
    const h = await harness(PASS, cert);
    guard = startScenarioGuard();
    const mailers = [createGmailTransport(appPassword(h)), createGmailTransport(oauth2(h, { pool: true }))];
    const requestsBefore = tokens.requests;
    const outcomes = (await Promise.all(mailers.map((m, i) => sendAll(m, [`cert${i}`])))).flat();
    for (const outcome of outcomes) {
      expect(outcome).toMatchObject({ ok: false, error: { code: 'TLS_FAILED', retryable: false, phase: 'tls' } });
      expectNoSecretIn((outcome as { error: unknown }).error, ALL_SECRETS);
    }
    expect(h.proxy.connections).toHaveLength(2);
    expect(h.proxy.connections.map((c) => c.clientBytes)).toEqual([0, 0]);
    expect(h.backend.authAttempts).toEqual([]);
    expect(h.delivered()).toEqual([]);
    // XOAUTH2 asks for a token only at AUTH, which never came.
    expect(tokens.requests - requestsBefore).toBe(0);
    await guard.finish(mailers, [h.proxy]);
  });
});
