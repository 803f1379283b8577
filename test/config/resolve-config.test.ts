import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, connect, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { createGmailTransport, isGmailTransportError, type GmailTransportConfig, type GmailTransportError } from '../../src/index.js';

const APP_PASSWORD = 'wqnz hbtf ycrd mvkx';
const ACCOUNT_PASSWORD = 'FAKE-ACCOUNT-PW-91ab';
const RELAY_PASSWORD = 'FAKE-RELAY-PW-e6f0';
const SECRETS = [APP_PASSWORD, APP_PASSWORD.replace(/ /g, ''), ACCOUNT_PASSWORD, RELAY_PASSWORD];

/** A plain TCP listener that counts connections: every bad config below points at it. */
let listener: Server;
let port: number;
let accepted = 0;

beforeAll(async () => {
  listener = createServer((socket) => {
    accepted++;
    socket.end('220 listener\r\n');
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  port = (listener.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => listener.close(() => resolve())));

/**
 * Connections the listener accepted since it had `start`, besides one of our own opened now:
 * connections are accepted in order, so one started earlier (by a transport that should not
 * exist yet) is counted by the time ours is. No sleep needed.
 */
async function connectionsSince(start: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('error', reject);
    socket.once('data', () => {
      socket.destroy();
      resolve();
    });
  });
  return accepted - start - 1;
}

/** Creates the transport, expecting CONFIG_INVALID; checks the rules every such error follows. */
async function configError(config: unknown): Promise<GmailTransportError> {
  const start = accepted;
  let thrown: unknown;
  try {
    createGmailTransport(config as GmailTransportConfig);
  } catch (err) {
    thrown = err;
  }
  expect(isGmailTransportError(thrown), 'createGmailTransport throws a GmailTransportError').toBe(true);
  const err = thrown as GmailTransportError;
  expect(err).toBeInstanceOf(Error);
  expect(err).toMatchObject({ code: 'CONFIG_INVALID', retryable: false, phase: 'config' });
  expect(typeof err.hint).toBe('string');
  for (const issue of err.issues ?? []) expect(err.message).toContain(`${issue.path} ${issue.message}`);
  for (const text of [String(err), err.message, err.hint ?? '', JSON.stringify(err), inspect(err, { depth: 5 })]) {
    for (const secret of SECRETS) expect(text).not.toContain(secret);
  }
  expect(await connectionsSince(start), 'no connection before the config is valid').toBe(0);
  return err;
}

const paths = (err: GmailTransportError): string[] => (err.issues ?? []).map((i) => i.path);
const local = () => ({ host: '127.0.0.1', port });

const appPassword = () => ({ strategy: 'app-password', user: 'me@gmail.com', appPassword: APP_PASSWORD, smtp: local() });

describe('CONFIG_INVALID at createGmailTransport, before any network', () => {
  it('a valid config pointed at the listener opens no connection either', async () => {
    const start = accepted;
    const mailer = createGmailTransport(appPassword() as GmailTransportConfig);
    expect(await connectionsSince(start)).toBe(0);
    mailer.close();
  });

  it.each([
    ['a number', 42],
    ['null', null],
    ['a string', 'smtp://me:pw@smtp.gmail.com'],
    ['an array', []],
  ])('refuses a config that is %s', async (_label, config) => {
    const err = await configError(config);
    expect(paths(err)).toEqual(['config']);
  });

  it('refuses an unknown strategy, listing the known ones', async () => {
    const err = await configError({ strategy: 'basic-auth', user: 'me@gmail.com', password: ACCOUNT_PASSWORD });
    expect(err.issues).toEqual([{ path: 'strategy', message: expect.stringContaining("'app-password'"), hint: expect.any(String) }]);
    expect(err.message).toContain("'ip-relay'");
    expect(err.message).toContain("'relay'");
  });

  it('refuses a missing strategy', async () => {
    const err = await configError({ user: 'me@gmail.com', appPassword: APP_PASSWORD });
    expect(paths(err)).toEqual(['strategy']);
    expect(err.issues![0]!.message).toMatch(/is required/);
  });

  it('refuses missing fields, naming each', async () => {
    expect(paths(await configError({ strategy: 'app-password' })).sort()).toEqual(['appPassword', 'user']);
    expect(paths(await configError({ strategy: 'ip-relay' }))).toEqual(['domain']);
    expect(paths(await configError({ strategy: 'relay', auth: { pass: RELAY_PASSWORD } })).sort()).toEqual(['auth.user', 'host']);
  });

  it('refuses wrong-typed fields, saying the type and never the value', async () => {
    const err = await configError({
      strategy: 'app-password',
      user: 42,
      appPassword: ['not', 'a', 'string'],
      smtp: { host: '127.0.0.1', port: String(port), secure: 'yes', tls: 'on' },
      pool: 'true',
      retry: { attempts: 2.5 },
      locale: 'fr',
      logger: 'console',
    });
    expect(err.issues).toEqual(
      expect.arrayContaining([
        { path: 'user', message: 'must be a string, got number', hint: expect.any(String) },
        { path: 'appPassword', message: 'must be a string, got an array', hint: expect.any(String) },
        { path: 'smtp.port', message: 'must be an integer, got string', hint: expect.any(String) },
        { path: 'smtp.secure', message: 'must be a boolean, got string', hint: expect.any(String) },
        { path: 'smtp.tls', message: 'must be an object, got string', hint: expect.any(String) },
        { path: 'pool', message: 'must be a boolean, got string', hint: expect.any(String) },
        { path: 'retry.attempts', message: 'must be an integer, got number', hint: expect.any(String) },
        { path: 'locale', message: "must be one of 'en', 'ja'", hint: expect.any(String) },
        { path: 'logger', message: expect.stringContaining('must be an object'), hint: expect.any(String) },
      ]),
    );
    expect(err.message).not.toContain(String(port));
  });

  it('refuses unknown keys (a typo is never silently ignored)', async () => {
    const err = await configError({ ...appPassword(), appPasword: APP_PASSWORD, smtp: { ...local(), hots: 'x' } });
    expect(paths(err)).toEqual(expect.arrayContaining(['appPasword', 'smtp.hots']));
  });

  it('refuses out-of-range numbers', async () => {
    const err = await configError({ ...appPassword(), smtp: { host: '127.0.0.1', port: 70000 }, pool: true, maxConnections: 0 });
    expect(paths(err)).toEqual(expect.arrayContaining(['smtp.port', 'maxConnections']));
  });

  it('refuses pooling options without pool: true', async () => {
    const err = await configError({ ...appPassword(), maxConnections: 3, rateLimit: 10 });
    expect(err.issues).toEqual([
      { path: 'maxConnections', message: 'only applies with pool: true', hint: expect.any(String) },
      { path: 'rateLimit', message: 'only applies with pool: true', hint: expect.any(String) },
    ]);
  });
});

describe('impossible port/TLS pairs', () => {
  it('refuses secure: true on 587 (587 starts in clear and upgrades with STARTTLS)', async () => {
    const err = await configError({ ...appPassword(), smtp: { host: '127.0.0.1', port: 587, secure: true } });
    expect(err.issues).toEqual([{ path: 'smtp.secure', message: expect.stringContaining('cannot be true on port 587'), hint: expect.any(String) }]);
  });

  it('refuses secure: false on 465 (465 is TLS from the first byte)', async () => {
    const err = await configError({ ...appPassword(), smtp: { host: '127.0.0.1', port: 465, secure: false } });
    expect(err.issues).toEqual([{ path: 'smtp.secure', message: expect.stringContaining('cannot be false on port 465'), hint: expect.any(String) }]);
  });

  it("reports a relay's own port/secure mistake once, under the field the user wrote (regression, issue 2)", async () => {
    const onSubmission = await configError({ strategy: 'relay', host: '127.0.0.1', port: 587, secure: true });
    expect(onSubmission.issues).toEqual([{ path: 'secure', message: expect.stringContaining('cannot be true on port 587'), hint: expect.any(String) }]);
    const onSmtps = await configError({ strategy: 'relay', host: '127.0.0.1', port: 465, secure: false });
    expect(onSmtps.issues).toEqual([{ path: 'secure', message: expect.stringContaining('cannot be false on port 465'), hint: expect.any(String) }]);
  });

  it('refuses requireTLS: false with implicit TLS as contradictory', async () => {
    const err = await configError({ strategy: 'ip-relay', domain: 'example.com', smtp: { host: '127.0.0.1', port: 465, requireTLS: false } });
    expect(paths(err)).toEqual(['smtp.requireTLS']);
  });
});

describe('credentials never on a channel with neither TLS nor required STARTTLS', () => {
  it.each([
    ['app-password', appPassword()],
    ['ip-relay with auth', { strategy: 'ip-relay', domain: 'example.com', auth: { user: 'app@example.com', appPassword: APP_PASSWORD } }],
    // The host comes from smtp (local()): given at the top too, it would be set twice (issue 19).
    ['relay with auth', { strategy: 'relay', auth: { user: 'apikey', pass: RELAY_PASSWORD } }],
  ])('refuses %s with smtp.requireTLS: false', async (_label, config) => {
    const err = await configError({ ...config, smtp: { ...local(), requireTLS: false } });
    expect(err.issues).toEqual([{ path: 'smtp.requireTLS', message: expect.stringContaining('dangerouslyAllowCredentialsInClear'), hint: expect.any(String) }]);
  });

  it('accepts requireTLS: false without credentials, and with the loudly named opt-out', () => {
    expect(() => createGmailTransport({ strategy: 'relay', host: '127.0.0.1', port, smtp: { requireTLS: false } }).close()).not.toThrow();
    expect(() =>
      createGmailTransport({
        ...appPassword(),
        smtp: { ...local(), requireTLS: false, dangerouslyAllowCredentialsInClear: true },
      } as GmailTransportConfig).close(),
    ).not.toThrow();
  });
});

describe('app passwords', () => {
  it('refuses an account password with a hint on creating an app password, and never echoes it', async () => {
    const err = await configError({ ...appPassword(), appPassword: ACCOUNT_PASSWORD });
    expect(err.issues).toEqual([{ path: 'appPassword', message: 'is not an app password (16 letters, spaces allowed)', hint: expect.any(String) }]);
    expect(err.hint).toMatch(/2-Step Verification/);
    expect(err.hint).toMatch(/App passwords/);
    expect(err.hint).toMatch(/2025-03-14/);
  });

  it.each([
    ['15 letters', 'wqnz hbtf ycrd mvk'],
    ['17 letters', 'wqnz hbtf ycrd mvkxa'],
    ['digits', 'wqnz hbtf ycrd mvk1'],
    ['dashes', 'wqnz-hbtf-ycrd-mvkx'],
    ['empty', ''],
  ])('refuses an app password with %s', async (_label, value) => {
    const err = await configError({ ...appPassword(), appPassword: value });
    expect(paths(err)).toEqual(['appPassword']);
  });

  it("gives the hint in the config's locale: Japanese with locale: 'ja'", async () => {
    const err = await configError({ ...appPassword(), appPassword: ACCOUNT_PASSWORD, locale: 'ja' });
    expect(err.hint).toMatch(/アプリ パスワード/);
    expect(err.hint).toMatch(/2025-03-14/);
    const generic = await configError({ ...appPassword(), smtp: { port: 0 }, locale: 'ja' });
    expect(generic.hint).toMatch(/docs\/strategies/);
    expect(generic.hint).toMatch(/修正/);
  });

  it('refuses a bad app password under ip-relay auth with the same hint', async () => {
    const err = await configError({ strategy: 'ip-relay', domain: 'example.com', auth: { user: 'app@example.com', appPassword: ACCOUNT_PASSWORD } });
    expect(paths(err)).toEqual(['auth.appPassword']);
    expect(err.hint).toMatch(/App passwords/);
  });
});

describe('one error lists every problem', () => {
  it('collects problems across the top level, smtp, auth and common options', async () => {
    const err = await configError({
      strategy: 'ip-relay',
      domain: 'localhost',
      auth: { user: 'not-an-address', appPassword: ACCOUNT_PASSWORD },
      smtp: { host: '', port: 587, secure: true },
      retry: { minDelayMs: 1000, maxDelayMs: 10 },
      pool: true,
      maxMessages: -1,
      extra: 1,
    });
    expect(paths(err).sort()).toEqual(
      ['auth.appPassword', 'auth.user', 'domain', 'extra', 'maxMessages', 'retry.maxDelayMs', 'smtp.host', 'smtp.secure'].sort(),
    );
    expect(err.strategy).toBe('ip-relay');
    expect(err.hint).toMatch(/App passwords/);
  });

  it('serialises to JSON with code, message, hint and issues, and no cause', async () => {
    const err = await configError({ strategy: 'relay', preset: 'ses', auth: { user: 'AKIAFAKE', pass: RELAY_PASSWORD } });
    const json = JSON.parse(JSON.stringify(err)) as Record<string, unknown>;
    expect(json).toMatchObject({ name: 'GmailTransportError', code: 'CONFIG_INVALID', retryable: false, strategy: 'relay' });
    expect(json.issues).toEqual([{ path: 'region', message: expect.stringContaining("is required with preset 'ses'"), hint: expect.any(String) }]);
    expect(json).not.toHaveProperty('cause');
  });
});

describe('issue 19: every issue has a hint of its own, and typos get a suggestion', () => {
  it('a strategy typo says "did you mean \'app-password\'"', async () => {
    for (const typo of ['app_password', 'App-Password', 'apppassword', 'app-pasword']) {
      const err = await configError({ strategy: typo, user: 'me@gmail.com', appPassword: APP_PASSWORD });
      expect(err.issues).toEqual([
        { path: 'strategy', message: expect.stringContaining("did you mean 'app-password'?"), hint: expect.stringContaining('spelled exactly') },
      ]);
    }
    const unrelated = await configError({ strategy: 'basic-auth', user: 'me@gmail.com' });
    expect(unrelated.issues![0]!.message).not.toMatch(/did you mean/);
  });

  it('an option typo suggests the option (clientID, appPasword)', async () => {
    const err = await configError({ ...appPassword(), appPassword: undefined, appPasword: APP_PASSWORD, smtp: { hots: '127.0.0.1', port: 465 } });
    const byPath = Object.fromEntries(err.issues!.map((i) => [i.path, i]));
    expect(byPath.appPasword?.message).toBe('is not a known option: did you mean appPassword?');
    expect(byPath['smtp.hots']?.message).toBe('is not a known option: did you mean host?');
    const oauth = await configError({
      strategy: 'oauth2',
      user: 'me@gmail.com',
      clientID: 'x.apps.googleusercontent.com',
      clientSecret: 'FAKE-SECRET-typo',
      refreshToken: '1//FAKE-typo',
    });
    expect(oauth.issues!.find((i) => i.path === 'clientID')?.message).toBe('is not a known option: did you mean clientId?');
    // A secret given under a misspelt name is never echoed.
    expect(JSON.stringify(err)).not.toContain(APP_PASSWORD);
  });

  it('each kind of problem has its own hint, in the config’s locale', async () => {
    const config = {
      ...appPassword(),
      user: 42,
      smtp: { host: '127.0.0.1', port: '465', secure: 'true', tls: 'x' },
      retry: { attempts: 99 },
      pool: false,
      maxConnections: 3,
      extra: 1,
    };
    const err = await configError(config);
    const hints = Object.fromEntries(err.issues!.map((i) => [i.path, i.hint]));
    expect(hints.user).toMatch(/text in quotes/);
    expect(hints['smtp.port']).toMatch(/587 rather than "587"/);
    expect(hints['smtp.secure']).toMatch(/true or false, without quotes/);
    expect(hints['smtp.tls']).toMatch(/as an object/);
    expect(hints['retry.attempts']).toMatch(/within the limit/);
    expect(hints.maxConnections).toMatch(/Add pool: true/);
    expect(hints.extra).toMatch(/Remove this option or correct its spelling/);
    expect(new Set(Object.values(hints)).size).toBe(Object.keys(hints).length);

    const ja = await configError({ ...config, locale: 'ja' });
    for (const issue of ja.issues!) {
      if (issue.path === 'maxConnections') continue; // a literal hint of its call site, in English
      expect(issue.hint).toMatch(/[\u3040-\u30ff]/);
    }
  });

  it('a required field and an empty one say so', async () => {
    const err = await configError({ strategy: 'app-password', user: '', appPassword: APP_PASSWORD });
    expect(err.issues).toEqual([{ path: 'user', message: 'must not be empty', hint: expect.stringMatching(/leave the field out/) }]);
    const missing = await configError({ strategy: 'ip-relay' });
    expect(missing.issues).toEqual([{ path: 'domain', message: 'is required', hint: expect.stringMatching(/Add this field/) }]);
  });
});
