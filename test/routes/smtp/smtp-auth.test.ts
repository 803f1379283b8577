import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setupServer } from 'msw/node';
import { createGmailTransport, mapError, type GmailTransportConfig, type GmailTransportError } from '../../../src/index.js';
import { createBridge } from '../../../src/bridge/index.js';
import { main } from '../../../src/cli/main.js';
import { startRecordingServer, type RecordingServer } from '../../helpers/smtp-server.js';
import { TokenAuthority } from '../../helpers/google-token.js';
import { CLIENT_SECRET, REFRESH_TOKEN, uniqueClientId } from '../../helpers/oauth-fixtures.js';
import { expectNoSecret } from '../../contract/strategy.js';
import { replyForUpstreamError } from '../../../src/bridge/replies.js';
import { printerSend, scanMessage } from '../../helpers/printer.js';

// Issue 19, item 1: credentials configured, and a server that offers no AUTH they can use.
const APP_PASSWORD = 'fakeauthgateqzxw';
const RELAY_PASSWORD = 'FAKE-RELAY-GATE-PASS-5d1e';
const SECRETS = [APP_PASSWORD, RELAY_PASSWORD, CLIENT_SECRET, REFRESH_TOKEN];
const MESSAGE = { from: 'me@gmail.com', to: 'you@example.com', subject: 'gate', text: 'hello' };

const msw = setupServer();
let authority = new TokenAuthority();
beforeAll(() => msw.listen({ onUnhandledRequest: 'error' }));
beforeEach(() => {
  authority = new TokenAuthority();
  msw.resetHandlers(authority.handler());
});
afterAll(() => msw.close());

function smtpOf(server: RecordingServer, secure: boolean) {
  return { host: '127.0.0.1', port: server.port, secure, tls: { ca: [server.cert] } };
}

const configs: Record<string, (server: RecordingServer, secure: boolean) => GmailTransportConfig> = {
  'app-password': (server, secure) => ({
    strategy: 'app-password',
    user: 'me@gmail.com',
    appPassword: APP_PASSWORD,
    smtp: smtpOf(server, secure),
    retry: { attempts: 3, minDelayMs: 1, maxDelayMs: 1 },
  }),
  relay: (server, secure) => ({
    strategy: 'relay',
    host: '127.0.0.1',
    port: server.port,
    secure,
    auth: { user: 'relay-user', pass: RELAY_PASSWORD },
    smtp: { tls: { ca: [server.cert] } },
    retry: { attempts: 3, minDelayMs: 1, maxDelayMs: 1 },
  }),
  oauth2: (server, secure) => ({
    strategy: 'oauth2',
    user: 'me@gmail.com',
    clientId: uniqueClientId(),
    clientSecret: CLIENT_SECRET,
    refreshToken: REFRESH_TOKEN,
    smtp: smtpOf(server, secure),
    retry: { attempts: 3, minDelayMs: 1, maxDelayMs: 1 },
  }),
  'ip-relay with an app password': (server, secure) => ({
    strategy: 'ip-relay',
    domain: 'example.com',
    auth: { user: 'me@example.com', appPassword: APP_PASSWORD },
    smtp: smtpOf(server, secure),
    retry: false,
  }),
};

function expectUnavailable(err: unknown, offered: RegExp): asserts err is GmailTransportError {
  const e = err as GmailTransportError;
  expect(e.code).toBe('AUTH_UNAVAILABLE');
  expect(e.phase).toBe('auth');
  expect(e.retryable).toBe(false);
  expect(e.message).toMatch(offered);
  expect(e.hint).toMatch(/smtp\.host and smtp\.port/);
  expect(e.hint).toMatch(/needs no credentials/);
  expectNoSecret(e, SECRETS);
}

describe('issue 19: credentials and a server that offers no AUTH', () => {
  for (const secure of [true, false]) {
    describe(secure ? 'implicit TLS' : 'STARTTLS', () => {
      let server: RecordingServer;
      beforeAll(async () => {
        server = await startRecordingServer({ secure, noAuth: true });
      });
      afterAll(() => server.close());

      it.each(Object.keys(configs))('%s: verify() and sendMail() fail with AUTH_UNAVAILABLE before MAIL FROM; nothing is delivered', async (name) => {
        const mailer = createGmailTransport(configs[name]!(server, secure));
        const connections = server.connections;
        const verifyError = await mailer.verify().then(
          () => 'verified',
          (e: unknown) => e,
        );
        expectUnavailable(verifyError, /127\.0\.0\.1:\d+ offered none, these credentials need (PLAIN or LOGIN|XOAUTH2)/);
        const sendError = await mailer.sendMail(MESSAGE).then(
          () => 'sent',
          (e: unknown) => e,
        );
        expectUnavailable(sendError, /offered none/);
        mailer.close();
        // One connection for verify, one for the send: not retried.
        expect(server.connections - connections).toBe(2);
        expect(server.messages).toHaveLength(0);
        expect(server.authAttempts).toHaveLength(0);
        expect(server.transcripts.flat().filter((line) => line.startsWith('MAIL FROM'))).toEqual([]);
        // No token was fetched for a login that cannot happen.
        expect(authority.requests).toHaveLength(0);
      });
    });
  }

  it('a pooled transport fails the same way', async () => {
    const server = await startRecordingServer({ secure: true, noAuth: true });
    const mailer = createGmailTransport({ ...(configs['app-password']!(server, true) as object), pool: true } as GmailTransportConfig);
    const results = await Promise.allSettled([mailer.sendMail(MESSAGE), mailer.sendMail(MESSAGE)]);
    mailer.close();
    await server.close();
    for (const result of results) {
      expect(result.status).toBe('rejected');
      expectUnavailable((result as PromiseRejectedResult).reason, /offered none/);
    }
    expect(server.messages).toHaveLength(0);
  });

  it('a failover moves on to its next route, as for any route that cannot log in', async () => {
    const wrong = await startRecordingServer({ secure: true, noAuth: true });
    const right = await startRecordingServer({ secure: true });
    const mailer = createGmailTransport({
      strategy: 'failover',
      transports: [configs.relay!(wrong, true) as never, configs['app-password']!(right, true) as never],
    });
    const events: string[] = [];
    mailer.on('failover', ({ code }) => events.push(code));
    await mailer.sendMail(MESSAGE);
    mailer.close();
    await Promise.all([wrong.close(), right.close()]);
    expect(events).toEqual(['AUTH_UNAVAILABLE']);
    expect(wrong.messages).toHaveLength(0);
    expect(right.messages).toHaveLength(1);
  });

  it('a password against a server that offers only XOAUTH2 says what it offered', async () => {
    const server = await startRecordingServer({ secure: true, extra: { authMethods: ['XOAUTH2'] } });
    const mailer = createGmailTransport(configs.relay!(server, true));
    const err = await mailer.sendMail(MESSAGE).then(
      () => 'sent',
      (e: unknown) => e,
    );
    mailer.close();
    await server.close();
    expectUnavailable(err, /offered XOAUTH2, these credentials need PLAIN or LOGIN/);
    expect(server.authAttempts).toHaveLength(0);
    expect(server.messages).toHaveLength(0);
  });

  it('relay auth.method LOGIN is used when offered, and refused when the server offers only PLAIN', async () => {
    const both = await startRecordingServer({ secure: true });
    const plainOnly = await startRecordingServer({ secure: true, extra: { authMethods: ['PLAIN'] } });
    const withLogin = (server: RecordingServer) =>
      ({ ...(configs.relay!(server, true) as object), auth: { user: 'relay-user', pass: RELAY_PASSWORD, method: 'LOGIN' } }) as GmailTransportConfig;
    const ok = createGmailTransport(withLogin(both));
    await ok.sendMail(MESSAGE);
    ok.close();
    expect(both.messages.at(-1)?.auth).toMatchObject({ method: 'LOGIN', username: 'relay-user', password: RELAY_PASSWORD });

    const refused = createGmailTransport(withLogin(plainOnly));
    const err = await refused.sendMail(MESSAGE).then(
      () => 'sent',
      (e: unknown) => e,
    );
    refused.close();
    expectUnavailable(err, /offered PLAIN, these credentials need LOGIN/);
    expect(plainOnly.authAttempts).toHaveLength(0);
    await Promise.all([both.close(), plainOnly.close()]);
  });

  it('a refused LOGIN keeps its reply, phase and code (AUTH_INVALID_CREDENTIALS)', async () => {
    const server = await startRecordingServer({ secure: true, checkAuth: () => false });
    const mailer = createGmailTransport({
      ...(configs.relay!(server, true) as object),
      auth: { user: 'relay-user', pass: RELAY_PASSWORD, method: 'LOGIN' },
    } as GmailTransportConfig);
    const err = (await mailer.verify().catch((e: unknown) => e)) as GmailTransportError;
    mailer.close();
    await server.close();
    expect(err).toMatchObject({ code: 'AUTH_INVALID_CREDENTIALS', phase: 'auth', responseCode: 535, enhancedCode: '5.7.8' });
    expectNoSecret(err, SECRETS);
  });

  it('a relay without credentials still sends to a server that offers no AUTH (an IP-based relay)', async () => {
    const server = await startRecordingServer({ secure: true, noAuth: true });
    const mailer = createGmailTransport({ strategy: 'relay', host: '127.0.0.1', port: server.port, secure: true, smtp: { tls: { ca: [server.cert] } } });
    await mailer.sendMail(MESSAGE);
    mailer.close();
    await server.close();
    expect(server.messages).toHaveLength(1);
  });
});

describe('issue 19: the CLI and the bridge do not claim a login that never happened', () => {
  let server: RecordingServer;
  let dir: string;
  beforeAll(async () => {
    server = await startRecordingServer({ secure: true, noAuth: true });
    dir = await mkdtemp(join(tmpdir(), 'auth-gate-'));
    await writeFile(join(dir, 'ca.pem'), server.cert);
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('gmail-transport verify exits 1 with AUTH_UNAVAILABLE, not "connected and authenticated"', async () => {
    await writeFile(
      join(dir, 'relay.json'),
      JSON.stringify({
        strategy: 'relay',
        host: '127.0.0.1',
        port: server.port,
        secure: true,
        auth: { user: 'relay-user', pass: { env: 'RELAY_PASS' } },
        smtp: { tls: { ca: [{ file: 'ca.pem' }] } },
      }),
    );
    let stdout = '';
    let stderr = '';
    const code = await main(['verify', '--config', 'relay.json'], {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      env: { RELAY_PASS: RELAY_PASSWORD },
      cwd: dir,
    });
    expect(code).toBe(1);
    expect(stdout).not.toMatch(/authenticated/);
    expect(stderr).toMatch(/FAILED AUTH_UNAVAILABLE/);
    expect(stderr).toMatch(/phase auth/);
    expect(stderr).toMatch(/offered none/);
    expect(stderr).toMatch(/hint: Nothing was sent/);
    expect(stdout + stderr).not.toContain(RELAY_PASSWORD);
  });

  it('gmail-transport verify says "connected" without claiming a login for a config without credentials', async () => {
    await writeFile(
      join(dir, 'open.json'),
      JSON.stringify({ strategy: 'relay', host: '127.0.0.1', port: server.port, secure: true, smtp: { tls: { ca: [{ file: 'ca.pem' }] } } }),
    );
    let stdout = '';
    const code = await main(['verify', '--config', 'open.json'], {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: () => true },
      env: {},
      cwd: dir,
    });
    expect(code).toBe(0);
    expect(stdout).toMatch(/verify: OK \(strategy relay\): connected; this config has no credentials, so no login was made/);
    expect(stdout).not.toMatch(/authenticated/);
  });

  it('the bridge logs the start-up check as failed with AUTH_UNAVAILABLE', async () => {
    await writeFile(
      join(dir, 'bridge.json'),
      JSON.stringify({
        listen: { port: 0 },
        allowNetworks: ['127.0.0.1'],
        upstream: {
          strategy: 'relay',
          host: '127.0.0.1',
          port: server.port,
          secure: true,
          auth: { user: 'relay-user', pass: RELAY_PASSWORD },
          smtp: { tls: { ca: [{ file: 'ca.pem' }] } },
        },
      }),
    );
    let stdout = '';
    const signals = new EventEmitter();
    const run = main(['serve', '--config', 'bridge.json'], {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: () => true },
      cwd: dir,
      env: {},
      signals,
    } as never);
    while (!/upstream-verif/.test(stdout)) await new Promise((r) => setTimeout(r, 20));
    signals.emit('SIGTERM');
    expect(await run).toBe(0);
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.event)).not.toContain('upstream-verified');
    expect(lines.find((l) => l.event === 'upstream-verify-failed')).toMatchObject({
      level: 'error',
      code: 'AUTH_UNAVAILABLE',
      hint: expect.stringMatching(/needs no credentials/),
    });
    expect(stdout).not.toContain(RELAY_PASSWORD);
  });
});

describe('issue 19: a printer sending through a bridge whose upstream cannot log in', () => {
  it('gets 451 (the operator fixes the config, the printer retries), and nothing is delivered upstream', async () => {
    const server = await startRecordingServer({ secure: true, noAuth: true });
    const bridge = createBridge({
      listen: { host: '127.0.0.1', port: 0 },
      allowNetworks: ['127.0.0.1'],
      upstream: {
        strategy: 'relay',
        host: '127.0.0.1',
        port: server.port,
        secure: true,
        auth: { user: 'relay-user', pass: RELAY_PASSWORD },
        smtp: { tls: { ca: [server.cert] } },
      },
    });
    const [address] = await bridge.listen();
    const result = await printerSend(address!.port, {
      from: 'scans@example.com',
      to: ['alice@example.com'],
      message: scanMessage({ from: 'scans@example.com', to: 'alice@example.com' }),
    });
    await bridge.close();
    await server.close();
    expect(result.final).toMatch(/^451 4\.7\.0 /);
    expect(server.messages).toHaveLength(0);
  });

  it('a MESSAGE_INVALID is refused for good (5xx), not deferred', () => {
    const { reply, outcome } = replyForUpstreamError(
      mapError({ code: 'EMAXRECIPIENTS', message: 'Message has 3 recipients, which is over the 2 allowed by maxRecipients' }),
    );
    expect(outcome).toBe('rejected');
    expect(reply).toMatchObject({ code: 550, enhanced: '5.1.3' });
  });
});
