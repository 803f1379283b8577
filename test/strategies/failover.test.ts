import { afterEach, describe, expect, it, vi } from 'vitest';
import { inspect } from 'node:util';
import { Readable } from 'node:stream';
import {
  createGmailTransport,
  isGmailTransportError,
  type ErrorCode,
  type FailoverRouteConfig,
  type GmailTransportError,
  type TransportEvents,
} from '../../src/index.js';
import { startScriptedServer, type ScriptedSmtpServer, type SessionScript } from '../helpers/scripted-smtp.js';
import { replayConfig, secretForms, SECRETS } from '../helpers/replay.js';
import { testCert } from '../helpers/certs.js';
import type { RecordingServer } from '../helpers/smtp-server.js';
import { runStrategyContract } from '../contract/strategy.js';

const MESSAGE = { from: 'me@gmail.com', to: 'you@example.com', subject: 'Failover', text: 'Whichever route works.' };
const FAST_RETRY = { attempts: 2, minDelayMs: 1, maxDelayMs: 2, maxElapsedMs: 10_000 };
const QUOTA = '550 5.4.5 Daily user sending quota exceeded. s124sm6149838wme.29 - gsmtp';

let servers: ScriptedSmtpServer[] = [];
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function server(script: SessionScript | ((n: number) => SessionScript) = {}): Promise<ScriptedSmtpServer> {
  const s = await startScriptedServer({ script });
  servers.push(s);
  return s;
}

/** Route A: an app-password user (Gmail); route B: an external relay with its own password. */
function routes(a: ScriptedSmtpServer, b: ScriptedSmtpServer, retry: false | typeof FAST_RETRY = false): FailoverRouteConfig[] {
  return [replayConfig('app-password', a, { retry }), replayConfig('relay', b, { retry, auth: { user: 'relay-user', pass: SECRETS.relayPassword } })];
}

function failoverTransport(transports: FailoverRouteConfig[], extra: Record<string, unknown> = {}) {
  const mailer = createGmailTransport({ strategy: 'failover', transports, ...extra });
  const events: { name: string; payload: unknown }[] = [];
  for (const name of ['failover', 'delivered', 'retry', 'warning'] as const) mailer.on(name, (payload) => events.push({ name, payload }));
  return { mailer, events };
}

function assertNoSecret(err: unknown): void {
  const text = `${String(err)} ${JSON.stringify(err)} ${inspect(err, { depth: 8 })}`;
  for (const secret of secretForms()) expect(text).not.toContain(secret);
}

const APP_PASSWORDS = ['qzxv wkjr tpln hmgd', 'mbfr tyqe wkzs plod'];
/** A route: an app-password account on the local server. */
const routeAt = (server: RecordingServer, n: 0 | 1): FailoverRouteConfig => ({
  strategy: 'app-password',
  user: `route${n}@gmail.com`,
  appPassword: APP_PASSWORDS[n]!,
  smtp: { host: '127.0.0.1', port: server.port, secure: true, tls: { ca: [server.cert] } },
});

runStrategyContract('failover', {
  server: { secure: true },
  config: (server) => ({ strategy: 'failover', transports: [routeAt(server, 0), routeAt(server, 1)] }),
  // verify() checks every route.
  verifyConnections: 2,
  secrets: [...APP_PASSWORDS, ...APP_PASSWORDS.map((p) => p.replace(/ /g, ''))],
  readmeConfig: { strategy: 'failover', transports: [] },
  invalid: [
    { title: 'no transports', config: () => ({ strategy: 'failover' }), paths: ['transports'] },
    {
      title: 'a failover inside a failover',
      config: (s) => ({ strategy: 'failover', transports: [routeAt(s, 0), { strategy: 'failover', transports: [] }] }),
      paths: ['transports[1].strategy'],
    },
    {
      title: "a route's own bad field",
      config: (s) => ({ strategy: 'failover', transports: [{ ...routeAt(s, 0), appPassword: 'not-an-app-password' }] }),
      paths: ['transports[0].appPassword'],
    },
    {
      title: 'a send log on a route',
      config: (s) => ({ strategy: 'failover', transports: [{ ...routeAt(s, 0), sendLog: { dir: 'logs' } }] }),
      paths: ['transports[0].sendLog'],
    },
  ],
});

describe('failover strategy: config', () => {
  it('lists every problem, by path, in one CONFIG_INVALID before any network', () => {
    const err = (() => {
      try {
        createGmailTransport({
          strategy: 'failover',
          cooldownMs: -1,
          transports: [
            { strategy: 'app-password', user: 'me@gmail.com', appPassword: 'not-an-app-password' },
            'smtp://x' as never,
            { strategy: 'failover', transports: [] } as never,
            { strategy: 'nope' } as never,
          ],
        });
      } catch (e) {
        return e as GmailTransportError;
      }
      return undefined;
    })();
    expect(err?.code).toBe('CONFIG_INVALID');
    expect(err?.issues?.map((i) => i.path)).toEqual([
      'cooldownMs',
      'transports[0].appPassword',
      'transports[1]',
      'transports[2].strategy',
      'transports[3].strategy',
    ]);
    expect(JSON.stringify(err)).not.toContain('not-an-app-password');
  });

  it.each([
    [{}, 'transports'],
    [{ transports: [] }, 'transports'],
    [{ transports: { strategy: 'relay' } }, 'transports'],
  ])('refuses %j', (extra, path) => {
    expect(() => createGmailTransport({ strategy: 'failover', ...extra } as never)).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', issues: [expect.objectContaining({ path })] }),
    );
  });
});

describe('failover strategy: sending', () => {
  it('sends through the first route while it works', async () => {
    const [a, b] = [await server(), await server()];
    const { mailer, events } = failoverTransport(routes(a, b));
    const info = await mailer.sendMail(MESSAGE);
    mailer.close();
    expect([a.accepted, b.accepted, b.connections]).toEqual([1, 0, 0]);
    expect(events).toEqual([{ name: 'delivered', payload: { route: 0, strategy: 'app-password', failedOver: false, messageId: info.messageId } }]);
  });

  it('moves on when Gmail says its daily quota is used up, and skips that route during the cool-down', async () => {
    const [a, b] = [await server({ replies: { dot: QUOTA } }), await server()];
    const { mailer, events } = failoverTransport(routes(a, b), { cooldownMs: 60_000 });
    const first = await mailer.sendMail(MESSAGE);
    expect([a.accepted, b.accepted]).toEqual([0, 1]);
    expect(events).toEqual([
      { name: 'failover', payload: { from: 0, to: 1, fromStrategy: 'app-password', toStrategy: 'relay', code: 'QUOTA_EXCEEDED', messageId: first.messageId } },
      { name: 'delivered', payload: { route: 1, strategy: 'relay', failedOver: true, messageId: first.messageId } },
    ]);

    events.length = 0;
    await mailer.sendMail(MESSAGE);
    expect(a.connections).toBe(1);
    expect(b.accepted).toBe(2);
    expect(events.map((e) => e.name)).toEqual(['delivered']);

    // After the cool-down the first route is tried again (only Date is faked: sockets keep real timers).
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 60_001);
    await mailer.sendMail(MESSAGE);
    mailer.close();
    expect(a.connections).toBe(2);
    expect(b.accepted).toBe(3);
  });

  it('fails over on a rate limit only after that route used up its own retries', async () => {
    const [a, b] = [await server({ replies: { ehlo: '421 4.7.0 Try again later, closing connection. (EHLO) p5sm1520525phu.3 - gsmtp' } }), await server()];
    const { mailer, events } = failoverTransport(routes(a, b, FAST_RETRY));
    await mailer.sendMail(MESSAGE);
    mailer.close();
    expect(a.connections).toBe(FAST_RETRY.attempts);
    expect(b.accepted).toBe(1);
    expect(events.map((e) => e.name)).toEqual(['retry', 'failover', 'delivered']);
    expect(events[0]!.payload).toMatchObject({ route: 0, attempt: 1, code: 'RATE_LIMITED' });
    expect(events[1]!.payload).toMatchObject({ from: 0, to: 1, code: 'RATE_LIMITED' });
  });

  it.each<[string, SessionScript | 'closed' | 'untrusted', ErrorCode]>([
    ['refused connection', 'closed', 'CONNECTION_FAILED'],
    ['untrusted certificate', 'untrusted', 'TLS_FAILED'],
    [
      'refused login',
      {
        replies: {
          auth: '535-5.7.8 Username and Password not accepted. For more information, go to\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials x-gsmtp',
        },
      },
      'AUTH_INVALID_CREDENTIALS',
    ],
    [
      'app password required',
      {
        replies: {
          auth: '534-5.7.9 Application-specific password required. Learn more at\n534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor o13-gsmtp',
        },
      },
      'AUTH_APP_PASSWORD_REQUIRED',
    ],
    ['relay denied', { replies: { mail: '550 5.7.0 Mail relay denied.' } }, 'RELAY_DENIED'],
  ])('fails over on a broken route: %s', async (_name, behaviour, code) => {
    const a = await server(typeof behaviour === 'object' ? behaviour : {});
    const b = await server();
    const transports = routes(a, b);
    if (behaviour === 'closed') await a.close();
    // Trusting another CA: the handshake fails before any credential is sent.
    if (behaviour === 'untrusted')
      transports[0] = replayConfig('app-password', { port: a.port, cert: (await testCert({ host: 'other.example' })).cert }, { retry: false });
    const { mailer, events } = failoverTransport(transports);
    await mailer.sendMail(MESSAGE);
    mailer.close();
    expect(b.accepted).toBe(1);
    expect(events.find((e) => e.name === 'failover')?.payload).toMatchObject({ from: 0, to: 1, code });
  });

  it.each<[string, SessionScript, ErrorCode]>([
    [
      'recipient unknown',
      { replies: { rcpt: '550-5.1.1 The email account that you tried to reach does not exist.\n550 5.1.1 x-gsmtp' } },
      'RECIPIENT_REJECTED',
    ],
    ['message too big', { replies: { dot: "552-5.2.3 Your message exceeded Google's message size limits.\n552 5.2.3 x-gsmtp" } }, 'MESSAGE_REJECTED'],
    ['SPF/DKIM', { replies: { dot: '550-5.7.26 This mail has been blocked because the sender is unauthenticated.\n550 5.7.26 x-gsmtp' } }, 'POLICY_REJECTED'],
    ['syntax', { replies: { rcpt: '555 5.5.2 Syntax error. n68sm3960564vkd.0 - gsmtp' } }, 'SYNTAX_ERROR'],
    ['delivery uncertain', { drop: 'after-dot' }, 'DELIVERY_UNCERTAIN'],
  ])('never fails over when the message is the problem, or may have been delivered: %s', async (_name, script, code) => {
    const [a, b] = [await server(script), await server()];
    const { mailer, events } = failoverTransport(routes(a, b, FAST_RETRY));
    const err = (await mailer.sendMail(MESSAGE).catch((e: unknown) => e)) as GmailTransportError;
    mailer.close();
    expect(err).toMatchObject({ code, retryable: false, route: 0, strategy: 'app-password' });
    expect(err.errors).toBeUndefined();
    expect(b.connections).toBe(0);
    expect(a.connections).toBe(1);
    expect(a.received.length).toBe(code === 'DELIVERY_UNCERTAIN' || code === 'MESSAGE_REJECTED' || code === 'POLICY_REJECTED' ? 1 : 0);
    expect(events.filter((e) => e.name !== 'retry')).toEqual([]);
  });
});

describe('failover strategy: stream content', () => {
  it('moves on with a message whose stream the failed route never read', async () => {
    const a = await server({ drop: 'before-greeting' });
    const b = await server();
    const { mailer } = failoverTransport(routes(a, b));
    await mailer.sendMail({ ...MESSAGE, text: Readable.from(['streamed ', 'body']) });
    mailer.close();
    expect(b.received[0]!.raw.toString('utf8')).toContain('streamed body');
  });

  it('does not hand a message whose stream was consumed to the next route (it would go out truncated)', async () => {
    const [a, b] = [await server({ replies: { dot: QUOTA } }), await server()];
    const { mailer, events } = failoverTransport(routes(a, b));
    const err = (await mailer.sendMail({ ...MESSAGE, text: Readable.from(['streamed ', 'body']) }).catch((e: unknown) => e)) as GmailTransportError;
    mailer.close();
    expect(err).toMatchObject({ code: 'QUOTA_EXCEEDED', route: 0 });
    expect(b.connections).toBe(0);
    expect(events).toEqual([]);
  });
});

describe('failover strategy: when every route fails', () => {
  it("lists each route's error; the code is the last route's whose failure may pass, so the caller retries later", async () => {
    const a = await server({ replies: { dot: QUOTA } });
    const b = await server();
    await b.close();
    const { mailer } = failoverTransport(routes(a, b));
    const err = (await mailer.sendMail(MESSAGE).catch((e: unknown) => e)) as GmailTransportError;
    mailer.close();
    expect(isGmailTransportError(err)).toBe(true);
    expect(err).toMatchObject({ code: 'CONNECTION_FAILED', retryable: true, strategy: 'failover', route: 1 });
    expect(err.errors?.map((e) => [e.route, e.strategy, e.code, e.retryable])).toEqual([
      [0, 'app-password', 'QUOTA_EXCEEDED', false],
      [1, 'relay', 'CONNECTION_FAILED', true],
    ]);
    expect(err.message).toBe('Every failover route failed: route 0 (app-password): QUOTA_EXCEEDED; route 1 (relay): CONNECTION_FAILED');
    expect(err.hint).toBe(err.errors?.[1]?.hint);
    expect(JSON.parse(JSON.stringify(err)).errors).toHaveLength(2);
    assertNoSecret(err);
  });

  it("takes the last route's code when no failure may pass, and says when the first cool-down ends", async () => {
    const [a, b] = [
      await server({ replies: { dot: QUOTA } }),
      await server({ replies: { dot: '550-5.7.1 Daily SMTP relay limit exceeded for customer.\n550 5.7.1 x-gsmtp' } }),
    ];
    const { mailer } = failoverTransport(routes(a, b), { cooldownMs: 3_600_000 });
    const first = (await mailer.sendMail(MESSAGE).catch((e: unknown) => e)) as GmailTransportError;
    expect(first).toMatchObject({ code: 'QUOTA_EXCEEDED', retryable: false, route: 1 });
    expect(first.retryAfterMs).toBeGreaterThan(3_590_000);

    // Both routes cool down now: the next send fails at once, without a connection.
    const second = (await mailer.sendMail(MESSAGE).catch((e: unknown) => e)) as GmailTransportError;
    mailer.close();
    expect(second).toMatchObject({ code: 'QUOTA_EXCEEDED', retryable: false });
    expect(second.errors?.map((e) => e.route)).toEqual([0, 1]);
    expect([a.connections, b.connections]).toEqual([1, 1]);
    assertNoSecret(second);
  });

  it('retries each route with its own policy once, not again around the whole failover', async () => {
    const a = await server({ drop: 'after-ehlo' });
    const b = await server({ drop: 'after-ehlo' });
    const { mailer, events } = failoverTransport(routes(a, b), { retry: { attempts: 3, minDelayMs: 1, maxDelayMs: 2 } });
    const err = (await mailer.sendMail(MESSAGE).catch((e: unknown) => e)) as GmailTransportError;
    mailer.close();
    // `retry` on the failover applies to routes that set none: here routes() set `retry: false`.
    expect([a.connections, b.connections]).toEqual([1, 1]);
    expect(err).toMatchObject({ code: 'CONNECTION_FAILED', retryable: true });

    const c = await server({ drop: 'after-ehlo' });
    const d = await server({ drop: 'after-ehlo' });
    const inherited = failoverTransport(
      [replayConfig('app-password', c), replayConfig('relay', d)].map(({ retry: _ignored, ...rest }) => rest as FailoverRouteConfig),
      { retry: { attempts: 3, minDelayMs: 1, maxDelayMs: 2 } },
    );
    await inherited.mailer.sendMail(MESSAGE).catch(() => undefined);
    inherited.mailer.close();
    expect([c.connections, d.connections]).toEqual([3, 3]);
    expect(inherited.events.filter((e) => e.name === 'retry').map((e) => (e.payload as TransportEvents['retry']).route)).toEqual([0, 0, 1, 1]);
    expect(events.filter((e) => e.name === 'retry')).toEqual([]);
  });

  it('gives hints in the locale set on the failover', async () => {
    const a = await server({ replies: { dot: QUOTA } });
    const b = await server();
    await b.close();
    const { mailer } = failoverTransport(routes(a, b), { locale: 'ja' });
    const err = (await mailer.sendMail(MESSAGE).catch((e: unknown) => e)) as GmailTransportError;
    mailer.close();
    expect(err.errors?.[0]?.hint).toMatch(/送信上限/);
    expect(err.hint).toMatch(/接続できませんでした/);
  });
});

describe('failover strategy: verify', () => {
  it('is ready when one route is, reporting the others as warnings', async () => {
    const [a, b] = [await server({ replies: { auth: '535 5.7.8 Username and Password not accepted.' } }), await server()];
    const { mailer, events } = failoverTransport(routes(a, b));
    await expect(mailer.verify()).resolves.toBe(true);
    mailer.close();
    expect(events).toEqual([{ name: 'warning', payload: expect.objectContaining({ code: 'AUTH_INVALID_CREDENTIALS', strategy: 'app-password' }) }]);
  });

  it('fails with every route listed when none is', async () => {
    const a = await server({ replies: { auth: '535 5.7.8 Username and Password not accepted.' } });
    const b = await server();
    await b.close();
    const { mailer } = failoverTransport(routes(a, b));
    const err = (await mailer.verify().catch((e: unknown) => e)) as GmailTransportError;
    mailer.close();
    expect(err.errors?.map((e) => e.code)).toEqual(['AUTH_INVALID_CREDENTIALS', 'CONNECTION_FAILED']);
    expect(err.code).toBe('CONNECTION_FAILED');
    assertNoSecret(err);
  });
});
