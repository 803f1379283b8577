import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { setupServer } from 'msw/node';
import { randomBytes } from 'node:crypto';
import Keyv from 'keyv';
import { createGmailTransport, type GmailTransportConfig, type TokenStore, type TransportEvents } from '../../src/index.js';
import { startRecordingServer, type RecordingServer } from '../helpers/smtp-server.js';
import { TokenAuthority } from '../helpers/google-token.js';
import { CLIENT_SECRET, REFRESH_TOKEN, localSmtp, uniqueClientId } from '../helpers/oauth-fixtures.js';
import { runTokenStoreContract } from '../contract/token-store.js';
import { GuardedStore, STORE_RETRY_AFTER_MS } from '../../src/tokens/store.js';

const fakeElapse = async (ms: number) => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(Date.now() + ms);
};

/** A bare `{ get, set, delete }` over a Map, as a user might write one (TTL honoured). */
function bareStore(map = new Map<string, { value: string; until: number }>()): TokenStore {
  return {
    get: (k) => {
      const e = map.get(k);
      return e && e.until > Date.now() ? e.value : undefined;
    },
    set: (k, value, ttlMs) => void map.set(k, { value, until: ttlMs ? Date.now() + ttlMs : Infinity }),
    delete: (k) => map.delete(k),
  };
}

runTokenStoreContract('default memory store', () => ({ store: undefined, lockable: false, elapse: fakeElapse }));

runTokenStoreContract('a bare { get, set, delete } object', () => {
  const shared = new Map<string, { value: string; until: number }>();
  return { store: bareStore(shared), twin: bareStore(shared), lockable: false, elapse: fakeElapse };
});

runTokenStoreContract('Keyv in memory', () => {
  const shared = new Map();
  return { store: new Keyv(shared), twin: new Keyv(shared), lockable: false, elapse: fakeElapse };
});

describe('token stores that fail never stop mail', () => {
  const msw = setupServer();
  let authority: TokenAuthority;
  let server: RecordingServer;
  beforeAll(async () => {
    msw.listen({ onUnhandledRequest: 'error' });
    server = await startRecordingServer({ secure: true, checkAuth: (auth) => authority.isValid(auth.accessToken) });
  });
  beforeEach(() => {
    authority = new TokenAuthority();
    msw.resetHandlers(authority.handler());
  });
  afterEach(() => vi.useRealTimers());
  afterAll(async () => {
    msw.close();
    await server.close();
  });

  function config(tokenStore: unknown, extra: Record<string, unknown> = {}): GmailTransportConfig {
    return {
      strategy: 'oauth2',
      user: 'me@gmail.com',
      clientId: uniqueClientId(),
      clientSecret: CLIENT_SECRET,
      refreshToken: REFRESH_TOKEN,
      smtp: localSmtp(server),
      retry: false,
      tokenStore,
      ...extra,
    } as GmailTransportConfig;
  }

  async function sendAll(mailer: ReturnType<typeof createGmailTransport>, n: number) {
    for (let i = 0; i < n; i++) await mailer.sendMail({ from: 'me@gmail.com', to: 'you@example.com', text: `m${i}` });
  }

  it('a store that throws: reads are misses, one warning per outage, the token is kept in memory', async () => {
    const calls: string[] = [];
    const broken: TokenStore = {
      get: () => {
        calls.push('get');
        throw Object.assign(new Error(`connect ECONNREFUSED (value ${REFRESH_TOKEN})`), { code: 'ECONNREFUSED' });
      },
      set: async () => {
        calls.push('set');
        throw new Error('down');
      },
      delete: () => undefined,
    };
    const mailer = createGmailTransport(config(broken));
    const warnings: TransportEvents['warning'][] = [];
    mailer.on('warning', (w) => warnings.push(w));
    await sendAll(mailer, 3);
    expect(server.messages.slice(-3)).toHaveLength(3);
    expect(authority.requests).toHaveLength(1);
    expect(warnings).toEqual([{ code: 'TOKEN_STORE_READ_FAILED', message: expect.stringContaining('ECONNREFUSED'), strategy: 'oauth2' }]);
    expect(warnings[0]!.message).toMatch(/memory/);
    expect(JSON.stringify(warnings)).not.toContain(REFRESH_TOKEN);
    // After the first failure the store is left alone: no set, no further get.
    expect(calls).toEqual(['get']);
    mailer.close();
  });

  it('a store that never answers is bounded by tokenStoreTimeoutMs', async () => {
    const hanging: TokenStore = {
      get: () => new Promise(() => undefined),
      set: () => new Promise(() => undefined),
      delete: () => new Promise(() => undefined),
    };
    const mailer = createGmailTransport(config(hanging, { tokenStoreTimeoutMs: 50 }));
    const warnings: TransportEvents['warning'][] = [];
    mailer.on('warning', (w) => warnings.push(w));
    await sendAll(mailer, 2);
    expect(authority.requests).toHaveLength(1);
    expect(warnings.map((w) => w.code)).toEqual(['TOKEN_STORE_READ_FAILED']);
    expect(warnings[0]!.message).toMatch(/timed out/);
    mailer.close();
  });

  it('a write failure is a warning; the store is tried again after 30 s', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    let failing = true;
    const values = new Map<string, string>();
    const flaky: TokenStore = {
      get: (k) => values.get(k),
      // Keyv's way of reporting a failed write.
      set: (k, v) => (failing ? false : void values.set(k, v)),
      delete: (k) => values.delete(k),
    };
    const mailer = createGmailTransport(config(flaky, { eagerRefreshMs: 0 }));
    const warnings: TransportEvents['warning'][] = [];
    mailer.on('warning', (w) => warnings.push(w));
    await sendAll(mailer, 1);
    expect(warnings.map((w) => w.code)).toEqual(['TOKEN_STORE_WRITE_FAILED']);
    expect(values.size).toBe(0);
    failing = false;
    vi.setSystemTime(Date.now() + 3_600_000); // the token expired; the store had a 30 s rest
    await sendAll(mailer, 1);
    expect(authority.requests).toHaveLength(2);
    expect([...values.values()][0]).toContain(authority.issued[1]);
    mailer.close();
  });

  it("Keyv's error events become warnings", async () => {
    const keyv = new Keyv();
    const mailer = createGmailTransport(config(keyv));
    const warnings: TransportEvents['warning'][] = [];
    mailer.on('warning', (w) => warnings.push(w));
    await sendAll(mailer, 1);
    keyv.emit('error', Object.assign(new Error(`socket closed ${REFRESH_TOKEN}`), { code: 'ECONNRESET' }));
    expect(warnings).toEqual([{ code: 'TOKEN_STORE_ERROR', message: expect.stringContaining('ECONNRESET'), strategy: 'oauth2' }]);
    expect(JSON.stringify(warnings)).not.toContain(REFRESH_TOKEN);
    mailer.close();
  });
});

describe('encryption at rest', () => {
  const msw = setupServer();
  let authority: TokenAuthority;
  let server: RecordingServer;
  beforeAll(async () => {
    msw.listen({ onUnhandledRequest: 'error' });
    server = await startRecordingServer({ secure: true, checkAuth: (auth) => authority.isValid(auth.accessToken) });
  });
  beforeEach(() => {
    authority = new TokenAuthority();
    msw.resetHandlers(authority.handler());
  });
  afterAll(async () => {
    msw.close();
    await server.close();
  });

  const KEY = randomBytes(32).toString('hex');

  /** Two "processes": transports with the same credentials on two handles of one Map. */
  function pair(firstExtra: Record<string, unknown>, secondExtra: Record<string, unknown>) {
    const values = new Map<string, string>();
    const handle = (): TokenStore => ({ get: (k) => values.get(k), set: (k, v) => void values.set(k, v), delete: (k) => values.delete(k) });
    const base = {
      strategy: 'oauth2',
      user: 'me@gmail.com',
      clientId: uniqueClientId(),
      clientSecret: CLIENT_SECRET,
      refreshToken: REFRESH_TOKEN,
      smtp: localSmtp(server),
      retry: false,
    };
    const first = createGmailTransport({ ...base, tokenStore: handle(), ...firstExtra } as GmailTransportConfig);
    const second = createGmailTransport({ ...base, tokenStore: handle(), ...secondExtra } as GmailTransportConfig);
    const warnings: TransportEvents['warning'][] = [];
    const tokens: TransportEvents['token'][] = [];
    second.on('warning', (w) => warnings.push(w));
    second.on('token', (t) => tokens.push(t));
    return { values, first, second, warnings, tokens };
  }

  const send = (m: ReturnType<typeof createGmailTransport>) => m.sendMail({ from: 'me@gmail.com', to: 'you@example.com', text: 'x' });

  it('round trip: the value is sealed, and a process with the same key reuses the token', async () => {
    const p = pair({ tokenEncryptionKey: KEY }, { tokenEncryptionKey: Buffer.from(KEY, 'hex').toString('base64') });
    await send(p.first);
    const stored = [...p.values.values()][0]!;
    expect(stored).toMatch(/^gt1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(stored).not.toContain(authority.issued[0]);
    expect(stored).not.toContain('expiresAt');
    await send(p.second);
    expect(authority.requests).toHaveLength(1);
    expect(p.tokens.map((t) => t.source)).toEqual(['store']);
    expect(p.warnings).toEqual([]);
  });

  it('a tampered value is a miss and a warning, not a crash', async () => {
    const p = pair({ tokenEncryptionKey: KEY }, { tokenEncryptionKey: KEY });
    await send(p.first);
    const [k, v] = [...p.values.entries()][0]!;
    const parts = v.split('.');
    const body = Buffer.from(parts[2]!, 'base64url');
    body[0] = body[0]! ^ 1;
    p.values.set(k, [parts[0], parts[1], body.toString('base64url'), parts[3]].join('.'));
    await send(p.second);
    expect(authority.requests).toHaveLength(2);
    expect(p.warnings).toEqual([{ code: 'TOKEN_STORE_VALUE_REJECTED', message: expect.stringMatching(/integrity/), strategy: 'oauth2' }]);
    expect(p.tokens.map((t) => t.source)).toEqual(['endpoint']);
  });

  it('a wrong key is a miss and a warning; the new token replaces the value', async () => {
    const p = pair({ tokenEncryptionKey: KEY }, { tokenEncryptionKey: randomBytes(32).toString('base64') });
    await send(p.first);
    await send(p.second);
    expect(authority.requests).toHaveLength(2);
    expect(p.warnings.map((w) => w.code)).toEqual(['TOKEN_STORE_VALUE_REJECTED']);
    expect(server.messages.at(-1)!.auth?.accessToken).toBe(authority.issued[1]);
  });

  it('a plain value where a sealed one is expected is refused (nobody can slip in a token)', async () => {
    const p = pair({}, { tokenEncryptionKey: KEY });
    await send(p.first);
    await send(p.second);
    expect(authority.requests).toHaveLength(2);
    expect(p.warnings[0]!.message).toMatch(/not encrypted/);
  });

  it('a sealed value without a key is refused too', async () => {
    const p = pair({ tokenEncryptionKey: KEY }, {});
    await send(p.first);
    await send(p.second);
    expect(authority.requests).toHaveLength(2);
    expect(p.warnings[0]!.message).toMatch(/no tokenEncryptionKey/);
  });
});

describe('a failed store rests on the provider clock', () => {
  it('is left alone for 30 s of the injected clock, then tried again', async () => {
    let t = Date.UTC(2026, 0, 5, 9);
    let calls = 0;
    const failing: TokenStore = {
      get: () => {
        calls++;
        throw new Error('store down');
      },
      set: () => undefined,
      delete: () => undefined,
    };
    const warnings: string[] = [];
    const guarded = new GuardedStore(
      failing,
      1_000,
      (code) => warnings.push(code),
      () => t,
    );
    expect(await guarded.get('k')).toBeUndefined();
    expect(guarded.available).toBe(false);
    expect(await guarded.get('k')).toBeUndefined();
    expect(calls).toBe(1);
    t += STORE_RETRY_AFTER_MS - 1;
    expect(guarded.available).toBe(false);
    t += 1;
    expect(guarded.available).toBe(true);
    await guarded.get('k');
    expect(calls).toBe(2);
    expect(warnings).toEqual(['TOKEN_STORE_READ_FAILED', 'TOKEN_STORE_READ_FAILED']);
  });
});
