import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { setupServer } from 'msw/node';
import { createGmailTransport, type GmailTransportConfig, type TransportEvents } from '../../src/index.js';
import { startRecordingServer, type RecordingServer } from '../helpers/smtp-server.js';
import { TokenAuthority } from '../helpers/google-token.js';
import { CLIENT_SECRET, REFRESH_TOKEN, localSmtp, uniqueClientId } from '../helpers/oauth-fixtures.js';
import { expectNoSecret } from '../contract/strategy.js';

const USER = 'me@gmail.com';
const msw = setupServer();
let authority = new TokenAuthority();
let server: RecordingServer;

beforeAll(async () => {
  msw.listen({ onUnhandledRequest: 'error' });
  server = await startRecordingServer({ secure: true, checkAuth: (auth) => auth.method === 'XOAUTH2' && authority.isValid(auth.accessToken) });
});
beforeEach(() => {
  authority = new TokenAuthority();
  msw.resetHandlers(authority.handler());
});
afterEach(() => {
  vi.useRealTimers();
});
afterAll(async () => {
  msw.close();
  await server.close();
});

function oauth2(extra: Record<string, unknown> = {}): GmailTransportConfig {
  return {
    strategy: 'oauth2',
    user: USER,
    clientId: uniqueClientId(),
    clientSecret: CLIENT_SECRET,
    refreshToken: REFRESH_TOKEN,
    smtp: localSmtp(server),
    retry: false,
    // Over a thousand messages as one mailbox, past its default sending budget of 500 a day.
    budget: false,
    ...extra,
  } as GmailTransportConfig;
}

const mail = (i = 0) => ({ from: USER, to: 'you@example.com', subject: `m${i}`, text: `body ${i}` });

describe('token provider: one refresh shared by everyone', () => {
  it('1,000 concurrent sends through a pool on a cold cache make exactly one token request', async () => {
    const mailer = createGmailTransport(oauth2({ pool: true, maxConnections: 5, maxMessages: Infinity }));
    const before = server.messages.length;
    const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => mailer.sendMail(mail(i))));
    expect(results.every((r) => r.accepted?.length === 1)).toBe(true);
    expect(server.messages.length - before).toBe(1000);
    expect(authority.requests).toHaveLength(1);
    mailer.close();
  });

  it('concurrent unpooled sends, and a second transport with the same credentials, share that one request', async () => {
    const config = oauth2();
    const first = createGmailTransport(config);
    const second = createGmailTransport(config);
    await Promise.all([...Array.from({ length: 4 }, (_, i) => first.sendMail(mail(i))), second.sendMail(mail(9))]);
    expect(authority.requests).toHaveLength(1);
    const tokens = new Set(server.authAttempts.slice(-5).map((a) => a.accessToken));
    expect([...tokens]).toEqual([authority.issued[0]]);
    first.close();
    second.close();
  });

  it('a slow token endpoint still answers every waiting send with one request', async () => {
    authority.behaviour = { kind: 'slow', ms: 1_500 };
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const mailer = createGmailTransport(oauth2({ pool: true, maxConnections: 3 }));
    const { settleWithFakeTimers } = await import('../helpers/oauth-fixtures.js');
    await settleWithFakeTimers(Promise.all(Array.from({ length: 20 }, (_, i) => mailer.sendMail(mail(i)))));
    expect(authority.requests).toHaveLength(1);
    mailer.close();
  });
});

describe('token provider: expiry and eager refresh', () => {
  it('reuses the token while more than eagerRefreshMs is left, and refreshes inside the skew', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = Date.now();
    const mailer = createGmailTransport(oauth2({ eagerRefreshMs: 5 * 60_000 }));
    const events: TransportEvents['token'][] = [];
    mailer.on('token', (e) => events.push(e));
    await mailer.sendMail(mail(1));
    expect(authority.requests).toHaveLength(1);

    vi.setSystemTime(start + 54 * 60_000); // 5 min 59 s left: outside the skew
    await mailer.sendMail(mail(2));
    expect(authority.requests).toHaveLength(1);

    vi.setSystemTime(start + 56 * 60_000); // 3 min 59 s left: inside the skew
    await mailer.sendMail(mail(3));
    expect(authority.requests).toHaveLength(2);
    expect(server.authAttempts.at(-1)!.accessToken).toBe(authority.issued[1]);
    expect(events.map((e) => e.source)).toEqual(['endpoint', 'endpoint']);
    expect(events[1]!.expiresAt).toBeGreaterThan(events[0]!.expiresAt);
    mailer.close();
  });

  it('a pooled connection renewed after expiry gets a fresh token too', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = Date.now();
    const mailer = createGmailTransport(oauth2({ pool: true, maxConnections: 1, maxMessages: 1 }));
    await mailer.sendMail(mail(1));
    vi.setSystemTime(start + 61 * 60_000);
    await mailer.sendMail(mail(2));
    expect(authority.requests).toHaveLength(2);
    expect(server.messages.at(-1)!.auth?.accessToken).toBe(authority.issued[1]);
    mailer.close();
  });
});

describe('token provider: a token the server refuses', () => {
  it('drops it, refreshes once and sends the message once', async () => {
    const mailer = createGmailTransport(oauth2());
    await mailer.sendMail(mail(1));
    authority.revokeAll(); // e.g. revoked by the user, or cached past its real expiry
    const before = server.messages.length;
    const info = await mailer.sendMail(mail(2));
    expect(info.accepted).toEqual(['you@example.com']);
    expect(authority.requests).toHaveLength(2);
    expect(server.messages.length - before).toBe(1);
    const lastTwo = server.authAttempts.slice(-2).map((a) => a.accessToken);
    expect(lastTwo).toEqual([authority.issued[0], authority.issued[1]]);
    mailer.close();
  });

  it('several pooled connections refusing the same token cause a single refresh', async () => {
    const mailer = createGmailTransport(oauth2({ pool: true, maxConnections: 4, maxMessages: 1 }));
    await mailer.sendMail(mail(0));
    authority.revokeAll();
    await Promise.all(Array.from({ length: 8 }, (_, i) => mailer.sendMail(mail(i + 1))));
    expect(authority.requests).toHaveLength(2);
    mailer.close();
  });
});

describe('token provider: transient token-endpoint failures', () => {
  it('retries 500s with backoff within a bound, then fails with a retryable error', async () => {
    authority.behaviour = { kind: 'reply', status: 500, body: { error: 'internal_failure' } };
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { settleWithFakeTimers } = await import('../helpers/oauth-fixtures.js');
    const mailer = createGmailTransport(oauth2());
    const warnings: TransportEvents['warning'][] = [];
    mailer.on('warning', (w) => warnings.push(w));
    const err = await settleWithFakeTimers(mailer.sendMail(mail())).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TEMPORARY_FAILURE', retryable: true, phase: 'token', httpStatus: 500, strategy: 'oauth2' });
    expect(authority.requests).toHaveLength(4);
    expectNoSecret(err, [CLIENT_SECRET, REFRESH_TOKEN]);
    mailer.close();
  });

  it('recovers when a retry succeeds', async () => {
    authority.behaviour = (n) => (n < 3 ? { kind: 'reply', status: 503, body: {} } : { kind: 'ok' });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { settleWithFakeTimers } = await import('../helpers/oauth-fixtures.js');
    const mailer = createGmailTransport(oauth2());
    await settleWithFakeTimers(mailer.sendMail(mail()));
    expect(authority.requests).toHaveLength(3);
    expect(server.messages.at(-1)!.auth?.accessToken).toBe(authority.issued[0]);
    mailer.close();
  });

  it('a reply slower than the request timeout counts as transient: bounded retries, CONNECTION_FAILED', async () => {
    authority.behaviour = { kind: 'slow', ms: 60_000 };
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { settleWithFakeTimers } = await import('../helpers/oauth-fixtures.js');
    const mailer = createGmailTransport(oauth2());
    const started = Date.now();
    const err = await settleWithFakeTimers(mailer.sendMail(mail()), 250).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CONNECTION_FAILED', retryable: true, phase: 'token' });
    expect((err as { hint: string }).hint).toMatch(/token endpoint/);
    expect(authority.requests.length).toBeGreaterThanOrEqual(3);
    expect(authority.requests.length).toBeLessThanOrEqual(4);
    expect(Date.now() - started).toBeLessThan(45_000);
    mailer.close();
  });

  it('connection resets are transient too', async () => {
    authority.behaviour = (n) => (n === 1 ? { kind: 'reset' } : { kind: 'ok' });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { settleWithFakeTimers } = await import('../helpers/oauth-fixtures.js');
    const mailer = createGmailTransport(oauth2());
    await settleWithFakeTimers(mailer.sendMail(mail()));
    expect(authority.requests).toHaveLength(2);
    mailer.close();
  });
});

describe('token provider: the store and a refused token', () => {
  it('a refused token is deleted from the shared store, so no other process picks it up', async () => {
    const values = new Map<string, string>();
    const handle = () => ({ get: (k: string) => values.get(k), set: (k: string, v: string) => void values.set(k, v), delete: (k: string) => values.delete(k) });
    const clientId = uniqueClientId();
    const a = createGmailTransport(oauth2({ clientId, tokenStore: handle() }));
    const b = createGmailTransport(oauth2({ clientId, tokenStore: handle() }));
    await a.sendMail(mail(1));
    authority.revokeAll();
    // "Process" b finds the revoked token in the store, is refused, and refreshes once.
    await b.sendMail(mail(2));
    expect(authority.requests).toHaveLength(2);
    expect([...values.values()][0]).toContain(authority.issued[1]);
    // "Process" a, refused in turn, finds b's fresh token in the store: no third request.
    await a.sendMail(mail(3));
    expect(authority.requests).toHaveLength(2);
    expect(server.authAttempts.at(-1)!.accessToken).toBe(authority.issued[1]);
    a.close();
    b.close();
  });
});

describe('no token, secret or refresh token in any output', () => {
  it('events, log lines and errors of a whole session stay clean', async () => {
    const lines: string[] = [];
    const log = (obj: Record<string, unknown>, msg?: string) => lines.push(`${JSON.stringify(obj)} ${msg ?? ''}`);
    const logger = { debug: log, info: log, warn: log, error: log };
    const broken = { get: () => Promise.reject(new Error(`boom ${REFRESH_TOKEN}`)), set: () => undefined, delete: () => undefined };
    const mailer = createGmailTransport(oauth2({ logger, tokenStore: broken }));
    const events: unknown[] = [];
    for (const name of ['token', 'warning', 'retry'] as const) mailer.on(name, (e: unknown) => events.push(e));
    await mailer.sendMail(mail(1));
    authority.revokeAll();
    await mailer.sendMail(mail(2));
    authority.behaviour = { kind: 'reply', status: 400, body: { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' } };
    authority.revokeAll();
    const err = await mailer.sendMail(mail(3)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'OAUTH_INVALID_GRANT' });
    expect(lines.length).toBeGreaterThan(0);
    const secrets = [CLIENT_SECRET, REFRESH_TOKEN, ...authority.issued];
    const everything = `${lines.join('\n')} ${JSON.stringify(events)}`;
    for (const secret of secrets) expect(everything).not.toContain(secret);
    expectNoSecret(err, secrets);
    mailer.close();
  });
});
