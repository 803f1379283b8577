import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import dns from 'node:dns';
import net, { createServer, type AddressInfo, type Server } from 'node:net';
import { inspect } from 'node:util';
import { createGmailTransport, isGmailTransportError, type GmailTransportConfig } from '../../src/index.js';
import { makeServiceAccountKey } from '../helpers/google-token.js';

/**
 * Property tests of createGmailTransport's one promise about config: it never throws anything
 * but a CONFIG_INVALID that lists the problems by path and never shows a value, it never opens
 * a connection, and a valid config always builds a transporter.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 400);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const params = { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) };

// Secret-looking values: each unique, none a substring of any text the library writes itself.
const MARK = 'ZQXMARK';
const marker = fc.nat({ max: 1_000_000 }).map((n) => `${MARK}${n}zq`);
const APP_PASSWORD = 'fakeapppwdqzxkvw';
const CLIENT_SECRET = 'FAKE-CLIENT-SECRET-fz01';
const REFRESH_TOKEN = '1//FAKE-REFRESH-fz02';
const RELAY_PASSWORD = 'FAKE-RELAY-PASS-fz03';
const SA = makeServiceAccountKey('fuzz@fake-project.iam.gserviceaccount.com');
const SA_KEY_LINE = SA.privateKey.split('\n')[1]!;
const KNOWN_SECRETS = [APP_PASSWORD, CLIENT_SECRET, REFRESH_TOKEN, RELAY_PASSWORD, SA_KEY_LINE];

let spy: Server;
let spyPort = 0;
let spyConnections = 0;
beforeAll(async () => {
  spy = createServer((socket) => {
    spyConnections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => spy.listen(0, '127.0.0.1', resolve));
  spyPort = (spy.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => spy.close(() => resolve())));

const KEYS = {
  common: ['strategy', 'locale', 'retry', 'logger', 'pool', 'maxConnections', 'maxMessages', 'rateDelta', 'rateLimit'],
  strategy: [
    'user',
    'appPassword',
    'smtp',
    'domain',
    'auth',
    'preset',
    'region',
    'host',
    'port',
    'secure',
    'clientId',
    'clientSecret',
    'refreshToken',
    'scopes',
    'tokenStore',
    'tokenLock',
    'tokenEncryptionKey',
    'tokenStoreTimeoutMs',
    'eagerRefreshMs',
    'endpoints',
    'serviceAccount',
    'keyFile',
    'maxConcurrent',
    'transports',
    'cooldownMs',
  ],
  nested: [
    'host',
    'port',
    'secure',
    'requireTLS',
    'tls',
    'name',
    'connectionTimeoutMs',
    'greetingTimeoutMs',
    'socketTimeoutMs',
    'dangerouslyAllowCredentialsInClear',
    'user',
    'pass',
    'method',
    'type',
    'appPassword',
    'token',
    'gmailApi',
    'attempts',
    'minDelayMs',
    'maxDelayMs',
    'maxElapsedMs',
    'ca',
    'private_key',
    'client_email',
  ],
  unknown: ['clientID', 'password', 'smtpHost', 'constructor', '__proto__', 'toString', ''],
};
const STRATEGIES = ['app-password', 'ip-relay', 'relay', 'oauth2', 'service-account', 'gmail-api', 'failover'];

/** Values a config field might hold, right or wrong; strings that look like secrets are markers. */
const leaf: fc.Arbitrary<unknown> = fc.oneof(
  marker,
  fc.constantFrom(...STRATEGIES, 'en', 'ja', 'sendgrid', 'ses', 'mailgun', 'eu', 'us-east-1', 'PLAIN', 'LOGIN', 'XOAUTH2', 'oauth2', 'service-account'),
  fc.constantFrom('me@gmail.com', 'not-an-address', 'example.com', '127.0.0.1', 'localhost', '', ' ', '465', 'ya29.FAKE-ACCESS-fz', '/nonexistent/key.json'),
  // Built when drawn: the spy port is known only once the suite has started.
  fc.constant(null).map(() => `http://127.0.0.1:${spyPort}/token`),
  fc.constantFrom('https://oauth2.googleapis.com/token', 'http://tokens.example.com/token', 'not a url'),
  fc.integer({ min: -2, max: 70_000 }),
  fc.constantFrom(0, 1, 25, 465, 587, 2525, 65535, 65536, 1e9, -0, 0.5, Number.NaN, Infinity, -Infinity, Number.MAX_SAFE_INTEGER),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.string({ maxLength: 12 }),
);
const keyOf = fc.constantFrom(...KEYS.common, ...KEYS.strategy, ...KEYS.nested, ...KEYS.unknown);
const { value: anyValue } = fc.letrec<{ value: unknown; object: Record<string, unknown> }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('object'), fc.array(tie('value'), { maxLength: 3 })),
  object: fc.array(fc.tuple(keyOf, tie('value')), { maxLength: 6 }).map((entries) => Object.fromEntries(entries)),
}));

/** A config-shaped object: mostly known keys, a strategy most of the time. */
const randomConfig = fc
  .tuple(fc.option(fc.constantFrom(...STRATEGIES, 'smtp', 'basic'), { nil: undefined }), fc.array(fc.tuple(keyOf, anyValue), { maxLength: 10 }))
  .map(([strategy, entries]) => ({ ...(strategy ? { strategy } : {}), ...Object.fromEntries(entries) }));

/** Every input, plus things that are not objects at all. */
const anyInput = fc.oneof(randomConfig, anyValue, fc.jsonValue());

function markersIn(value: unknown, found: Set<string> = new Set(), seen: Set<object> = new Set()): Set<string> {
  if (typeof value === 'string' && value.includes(MARK)) found.add(value);
  else if (typeof value === 'object' && value !== null && !seen.has(value)) {
    seen.add(value);
    for (const v of Object.values(value)) markersIn(v, found, seen);
  }
  return found;
}

/** Whether any connection was attempted: a TCP/TLS connect, a DNS lookup or a fetch. */
function watchNetwork() {
  const calls: string[] = [];
  const spies = [
    vi.spyOn(net.Socket.prototype, 'connect').mockImplementation(function (this: net.Socket) {
      calls.push('net.Socket.connect');
      return this;
    }),
    vi.spyOn(dns, 'lookup').mockImplementation((() => calls.push('dns.lookup')) as never),
    vi.spyOn(dns, 'resolve4').mockImplementation((() => calls.push('dns.resolve4')) as never),
    vi.spyOn(dns, 'resolve6').mockImplementation((() => calls.push('dns.resolve6')) as never),
    vi.spyOn(globalThis, 'fetch').mockImplementation(() => {
      calls.push('fetch');
      return Promise.reject(new Error('no network in a config test'));
    }),
  ];
  return { calls, restore: () => spies.forEach((s) => s.mockRestore()) };
}

/**
 * Builds a transport from `input` and checks the contract. Returns what happened, for the
 * properties to assert more.
 */
function construct(input: unknown): { built: boolean; issues: number } {
  const secrets = [...KNOWN_SECRETS, ...markersIn(input)];
  const network = watchNetwork();
  try {
    const mailer = createGmailTransport(input as GmailTransportConfig);
    mailer.close();
    expect(network.calls).toEqual([]);
    return { built: true, issues: 0 };
  } catch (err) {
    expect(network.calls).toEqual([]);
    if (!isGmailTransportError(err)) throw new Error(`not a GmailTransportError: ${inspect(err)} for ${inspect(input, { depth: 8 })}`);
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.retryable).toBe(false);
    expect(err.issues?.length ?? 0).toBeGreaterThan(0);
    for (const issue of err.issues!) {
      expect(typeof issue.path).toBe('string');
      expect(typeof issue.message).toBe('string');
    }
    const renderings = [String(err), err.message, err.hint ?? '', JSON.stringify(err), inspect(err, { depth: 6 })];
    for (const text of renderings) for (const secret of secrets) expect(text).not.toContain(secret);
    return { built: false, issues: err.issues!.length };
  } finally {
    network.restore();
  }
}

/** A valid config of each strategy, everything pointed at the spy server. */
function validConfigs(): Record<string, Record<string, unknown>> {
  const smtp = { host: '127.0.0.1', port: spyPort, secure: true };
  const token = `http://127.0.0.1:${spyPort}/token`;
  const oauth = {
    user: 'me@gmail.com',
    clientId: '1234-fuzz.apps.googleusercontent.com',
    clientSecret: CLIENT_SECRET,
    refreshToken: REFRESH_TOKEN,
    endpoints: { token },
  };
  return {
    'app-password': { strategy: 'app-password', user: 'me@gmail.com', appPassword: APP_PASSWORD, smtp },
    'ip-relay': { strategy: 'ip-relay', domain: 'example.com', auth: { user: 'app@example.com', appPassword: APP_PASSWORD }, smtp },
    relay: { strategy: 'relay', host: '127.0.0.1', port: spyPort, secure: true, auth: { user: 'relay-user', pass: RELAY_PASSWORD } },
    oauth2: { strategy: 'oauth2', ...oauth, smtp },
    'service-account': { strategy: 'service-account', user: 'sales@example.com', serviceAccount: SA.json, endpoints: { token }, smtp },
    'gmail-api': { strategy: 'gmail-api', ...oauth, endpoints: { token, gmailApi: `http://127.0.0.1:${spyPort}/gmail` } },
    failover: {
      strategy: 'failover',
      transports: [
        { strategy: 'oauth2', ...oauth, smtp },
        { strategy: 'relay', host: '127.0.0.1', port: spyPort, secure: true, auth: { user: 'relay-user', pass: RELAY_PASSWORD } },
      ],
    },
  };
}

type Path = (string | number)[];

/** Every path to a value inside a config (objects and arrays, not into the key JSON). */
function pathsOf(value: unknown, prefix: Path = []): Path[] {
  if (typeof value !== 'object' || value === null || prefix.at(-1) === 'serviceAccount') return [];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return entries.flatMap(([k, v]) => [[...prefix, k], ...pathsOf(v, [...prefix, k])]);
}

type Mutation = { kind: 'delete'; at: number } | { kind: 'set'; at: number; value: unknown } | { kind: 'add'; at: number; key: string; value: unknown };

/** Sets an own property, as JSON.parse does: `__proto__` becomes a key, not a new prototype. */
function define(target: object, key: string | number, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function mutate(config: Record<string, unknown>, mutations: readonly Mutation[]): Record<string, unknown> {
  const copy = structuredClone(config);
  for (const m of mutations) {
    const paths = pathsOf(copy);
    if (paths.length === 0) break;
    const path = paths[m.at % paths.length]!;
    let parent: Record<string | number, unknown> = copy;
    for (const step of path.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
    const last = path.at(-1)!;
    if (m.kind === 'delete') delete parent[last];
    else if (m.kind === 'set') define(parent, last, m.value);
    else {
      // A named key goes into an object: into the one at the path, else its parent, else the root.
      const target = parent[last];
      const into = [target, parent, copy].find((o) => typeof o === 'object' && o !== null && !Array.isArray(o)) as Record<string, unknown>;
      define(into, m.key, m.value);
    }
  }
  return copy;
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: anyValue }),
  fc.record({ kind: fc.constant('add' as const), at: fc.nat(), key: keyOf, value: anyValue }),
);

describe('config fuzz (fast-check)', () => {
  it('any input: a transporter, or CONFIG_INVALID listing issues, no value echoed, no network', () => {
    fc.assert(
      fc.property(anyInput, (input) => {
        construct(input);
      }),
      params,
    );
    expect(spyConnections).toBe(0);
  });

  it.each(Object.keys(validConfigs()))('%s: mutations of a valid config never crash, never echo a secret, never connect', (strategy) => {
    const base = validConfigs()[strategy]!;
    expect(construct(base)).toEqual({ built: true, issues: 0 });
    let rejected = 0;
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
        if (!construct(mutate(base, mutations)).built) rejected++;
      }),
      params,
    );
    // The mutations did hit the validation, not only harmless corners.
    expect(rejected).toBeGreaterThan(RUNS / 10);
    expect(spyConnections).toBe(0);
  });

  it('valid configs with random valid common options always construct', () => {
    const options = fc.record(
      {
        locale: fc.constantFrom('en', 'ja'),
        retry: fc.oneof(
          fc.constant(false),
          fc.record(
            { attempts: fc.integer({ min: 1, max: 20 }), minDelayMs: fc.integer({ min: 0, max: 1_000 }), maxElapsedMs: fc.integer({ min: 0, max: 600_000 }) },
            { requiredKeys: [] },
          ),
        ),
        pool: fc.constant(true),
        maxConnections: fc.integer({ min: 1, max: 50 }),
        maxMessages: fc.oneof(fc.integer({ min: 1, max: 10_000 }), fc.constant(Infinity)),
        rateDelta: fc.integer({ min: 1, max: 60_000 }),
        rateLimit: fc.integer({ min: 1, max: 1_000 }),
      },
      { requiredKeys: [] },
    );
    const smtpExtras = fc.record(
      {
        name: fc.constantFrom('mail.example.com', 'host.example.org'),
        connectionTimeoutMs: fc.integer({ min: 1, max: 120_000 }),
        greetingTimeoutMs: fc.integer({ min: 1, max: 60_000 }),
        socketTimeoutMs: fc.integer({ min: 1, max: 600_000 }),
      },
      { requiredKeys: [] },
    );
    const smtpStrategies = ['app-password', 'ip-relay', 'oauth2', 'service-account'];
    fc.assert(
      fc.property(fc.constantFrom(...smtpStrategies), options, smtpExtras, (strategy, extra, smtpExtra) => {
        const base = validConfigs()[strategy]!;
        // pool options only with pool: true, as documented.
        const common = extra.pool
          ? extra
          : Object.fromEntries(Object.entries(extra).filter(([k]) => !['maxConnections', 'maxMessages', 'rateDelta', 'rateLimit'].includes(k)));
        const input = { ...base, ...common, smtp: { ...(base.smtp as object), ...smtpExtra } };
        expect(construct(input)).toEqual({ built: true, issues: 0 });
      }),
      params,
    );
    expect(spyConnections).toBe(0);
  });

  it('configs with reference cycles (a fuzzer built from JSON cannot make them) are handled the same way', () => {
    const cyclic = (make: (c: Record<string, unknown>) => void) => {
      const config = structuredClone(validConfigs()['app-password']!);
      make(config);
      return config;
    };
    const results = [
      cyclic((c) => ((c.smtp as Record<string, unknown>).tls = { self: c })),
      cyclic((c) => (c.retry = c)),
      cyclic((c) => (c.smtp = c)),
      { strategy: 'failover', transports: [] as unknown[] },
    ].map((config) => {
      if (Array.isArray(config.transports)) config.transports.push(config);
      return construct(config).built;
    });
    expect(results).toEqual([true, false, false, false]);
  });

  // Cases the fuzz found, kept as plain tests so that they are checked on every run.
  describe('found by the fuzz', () => {
    it('a marker given as `strategy` is not echoed in the error (its `strategy` field names only real strategies)', () => {
      expect(construct({ strategy: `${MARK}1zq`, user: 'me@gmail.com' })).toEqual({ built: false, issues: 1 });
    });

    it('failover: a sparse `transports` array (a hole where a route should be) is CONFIG_INVALID, not a TypeError', () => {
      // eslint-disable-next-line no-sparse-arrays -- the hole is what this test is about
      const transports = [, validConfigs().relay];
      expect(construct({ strategy: 'failover', transports }).built).toBe(false);
    });

    it('endpoints.token: null means the default endpoint, as null means unset everywhere (it crashed createGmailTransport)', () => {
      expect(construct({ ...validConfigs().oauth2!, endpoints: { token: null } })).toEqual({ built: true, issues: 0 });
      expect(construct({ ...validConfigs()['gmail-api']!, endpoints: { token: null, gmailApi: null } })).toEqual({ built: true, issues: 0 });
    });

    it('service-account: keyFile: null without serviceAccount is CONFIG_INVALID naming serviceAccount (it crashed createGmailTransport)', () => {
      const { serviceAccount: _key, ...withoutKey } = validConfigs()['service-account']!;
      expect(construct({ ...withoutKey, keyFile: null })).toEqual({ built: false, issues: 1 });
      expect(construct({ ...validConfigs()['service-account']!, keyFile: null })).toEqual({ built: true, issues: 0 });
    });
  });
});
