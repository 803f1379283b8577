import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { setupServer } from 'msw/node';
import Keyv from 'keyv';
import KeyvRedis from '@keyv/redis';
import { createGmailTransport, type GmailTransportConfig, type TokenLock, type TokenStore, type TransportEvents } from '../../src/index.js';
import { startRecordingServer, type RecordingServer } from '../helpers/smtp-server.js';
import { TokenAuthority, startTokenServer } from '../helpers/google-token.js';
import { CLIENT_SECRET, REFRESH_TOKEN, localSmtp, uniqueClientId } from '../helpers/oauth-fixtures.js';
import { HAS_REDIS, REDIS_SKIP_REASON, startRedis, type RedisServer } from '../helpers/redis.js';
import { runTokenStoreContract } from '../contract/token-store.js';

const CHILD = fileURLToPath(new URL('./cross-process-child.ts', import.meta.url));

describe('an explicit tokenLock, for stores that cannot lock by themselves', () => {
  const msw = setupServer();
  let authority: TokenAuthority;
  let server: RecordingServer;
  beforeAll(async () => {
    msw.listen({ onUnhandledRequest: 'error' });
    server = await startRecordingServer({ secure: true });
  });
  beforeEach(() => {
    authority = new TokenAuthority();
    authority.behaviour = { kind: 'slow', ms: 300 };
    msw.resetHandlers(authority.handler());
  });
  afterAll(async () => {
    msw.close();
    await server.close();
  });

  /** Two handles on one Map: two "processes" sharing a store, each with its own provider. */
  function twoProcesses(lock?: TokenLock) {
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
      ...(lock ? { tokenLock: lock } : {}),
    };
    return [
      createGmailTransport({ ...base, tokenStore: handle() } as GmailTransportConfig),
      createGmailTransport({ ...base, tokenStore: handle() } as GmailTransportConfig),
    ] as const;
  }

  const send = (m: ReturnType<typeof createGmailTransport>) => m.sendMail({ from: 'me@gmail.com', to: 'you@example.com', text: 'x' });

  it('without a lock, each process cold at the same time makes its own request', async () => {
    const [a, b] = twoProcesses();
    await Promise.all([send(a), send(b)]);
    expect(authority.requests).toHaveLength(2);
  });

  it('with one, the loser waits for the winner’s token in the store: one request', async () => {
    const held = new Map<string, number>();
    const calls: string[] = [];
    const lock: TokenLock = {
      acquire(key, ttlMs) {
        calls.push(`acquire ${ttlMs > 0}`);
        if ((held.get(key) ?? 0) > Date.now()) return false;
        held.set(key, Date.now() + ttlMs);
        return true;
      },
      release(key) {
        calls.push('release');
        held.delete(key);
      },
    };
    const [a, b] = twoProcesses(lock);
    const tokens: TransportEvents['token'][] = [];
    for (const m of [a, b]) m.on('token', (t) => tokens.push(t));
    await Promise.all([send(a), send(b)]);
    expect(authority.requests).toHaveLength(1);
    expect(tokens.map((t) => t.source).sort()).toEqual(['endpoint', 'store']);
    expect(calls.filter((c) => c === 'release')).toHaveLength(1);
    expect(held.size).toBe(0);
  });

  it('a lock that throws is a warning; the process refreshes without it', async () => {
    const [a] = twoProcesses({ acquire: () => Promise.reject(new Error('lock service down')), release: () => undefined });
    const warnings: TransportEvents['warning'][] = [];
    a.on('warning', (w) => warnings.push(w));
    await send(a);
    expect(authority.requests).toHaveLength(1);
    expect(warnings.map((w) => w.code)).toEqual(['TOKEN_LOCK_FAILED']);
  });
});

if (!HAS_REDIS) {
  describe.skip(`Redis-backed token store${REDIS_SKIP_REASON}`, () => {
    it('needs redis-server', () => undefined);
  });
} else {
  describe('Redis-backed token store (a real redis-server)', () => {
    let redis: RedisServer;
    const open: Keyv[] = [];
    beforeAll(async () => {
      redis = await startRedis();
    });
    afterAll(async () => {
      await Promise.all(open.map((k) => k.disconnect().catch(() => undefined)));
      await redis.stop();
    });
    const keyv = () => {
      const k = new Keyv(new KeyvRedis(redis.url, { throwOnConnectError: true, connectionTimeout: 1_000 }));
      open.push(k);
      return k;
    };

    runTokenStoreContract('Keyv + @keyv/redis', () => ({
      store: keyv(),
      twin: keyv(),
      lockable: true,
      // Redis expires keys on its own clock: a short real wait.
      elapse: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    }));

    describe('four processes starting cold against one Redis', () => {
      let authority: TokenAuthority;
      let tokenServer: { url: string; close(): Promise<void> };
      let smtp: RecordingServer;
      beforeAll(async () => {
        smtp = await startRecordingServer({ secure: true, checkAuth: (auth) => authority.isValid(auth.accessToken) });
      });
      beforeEach(async () => {
        authority = new TokenAuthority();
        // Slow enough that every process asks while the first refresh is still running.
        authority.behaviour = { kind: 'slow', ms: 800 };
        tokenServer = await startTokenServer(authority);
      });
      afterAll(() => smtp.close());

      async function runProcesses(n: number, env: Record<string, string>) {
        const children = Array.from({ length: n }, () =>
          spawn(process.execPath, ['--import', 'tsx', CHILD], {
            env: {
              ...process.env,
              REDIS_URL: redis.url,
              TOKEN_URL: tokenServer.url,
              SMTP_PORT: String(smtp.port),
              SMTP_CA: smtp.cert,
              CLIENT_SECRET,
              REFRESH_TOKEN,
              ...env,
            },
            stdio: ['pipe', 'pipe', 'pipe'],
          }),
        );
        const outputs = children.map((child) => {
          const lines: string[] = [];
          let stderr = '';
          child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
          const rl = createInterface({ input: child.stdout! });
          const ready = new Promise<void>((resolve, reject) => {
            rl.on('line', (line) => {
              lines.push(line);
              if (line === 'ready') resolve();
            });
            child.once('exit', (code) => reject(new Error(`child exited early (${code}): ${stderr}`)));
          });
          const done = new Promise<Record<string, unknown>>((resolve, reject) => {
            child.once('exit', () => {
              const last = lines.at(-1);
              if (!last || last === 'ready') reject(new Error(`no result: ${stderr}`));
              else resolve(JSON.parse(last) as Record<string, unknown>);
            });
          });
          return { child, ready, done };
        });
        await Promise.all(outputs.map((o) => o.ready));
        for (const o of outputs) o.child.stdin!.write('go\n');
        return Promise.all(outputs.map((o) => o.done));
      }

      it('make one token request in total, then none until the token nears expiry', { timeout: 60_000 }, async () => {
        const clientId = uniqueClientId();
        // Sealed too: every process holds the same tokenEncryptionKey.
        const sealed = { CLIENT_ID: clientId, ENCRYPTION_KEY: randomBytes(32).toString('base64') };
        const results = await runProcesses(4, sealed);
        try {
          expect(results.map((r) => r.ok)).toEqual([true, true, true, true]);
          expect(authority.requests).toHaveLength(1);
          const sources = results.map((r) => (r.tokens as TransportEvents['token'][])[0]!.source).sort();
          expect(sources).toEqual(['endpoint', 'store', 'store', 'store']);
          expect(new Set(smtp.authAttempts.slice(-4).map((a) => a.accessToken))).toEqual(new Set([authority.issued[0]]));
          expect(JSON.stringify(results)).not.toContain(authority.issued[0]);

          // More processes later: the token in Redis is still fresh.
          const again = await runProcesses(2, sealed);
          expect(again.map((r) => (r.tokens as TransportEvents['token'][])[0]!.source)).toEqual(['store', 'store']);
          expect(authority.requests).toHaveLength(1);
        } finally {
          await tokenServer.close();
        }
      });

      it('a bare { get, set, delete } over the same Redis cannot lock: one request per process', { timeout: 60_000 }, async () => {
        const results = await runProcesses(4, { CLIENT_ID: uniqueClientId(), STORE_KIND: 'bare-redis' });
        try {
          expect(results.every((r) => r.ok)).toBe(true);
          expect(authority.requests.length).toBeGreaterThan(1);
          expect(authority.requests.length).toBeLessThanOrEqual(4);
        } finally {
          await tokenServer.close();
        }
      });
    });

    describe('when Redis goes down', () => {
      const msw = setupServer();
      let authority: TokenAuthority;
      let smtp: RecordingServer;
      beforeAll(async () => {
        msw.listen({ onUnhandledRequest: 'error' });
        smtp = await startRecordingServer({ secure: true });
        authority = new TokenAuthority();
        msw.resetHandlers(authority.handler());
      });
      afterAll(async () => {
        msw.close();
        await smtp.close();
      });

      it('mail keeps going from memory, with a warning', async () => {
        const own = await startRedis();
        const store = new Keyv(new KeyvRedis(own.url, { throwOnConnectError: true, throwOnErrors: true, connectionTimeout: 300 }));
        store.on('error', () => undefined);
        const mailer = createGmailTransport({
          strategy: 'oauth2',
          user: 'me@gmail.com',
          clientId: uniqueClientId(),
          clientSecret: CLIENT_SECRET,
          refreshToken: REFRESH_TOKEN,
          tokenStore: store,
          tokenStoreTimeoutMs: 500,
          smtp: localSmtp(smtp),
          retry: false,
        });
        const warnings: TransportEvents['warning'][] = [];
        mailer.on('warning', (w) => warnings.push(w));
        await mailer.sendMail({ from: 'me@gmail.com', to: 'you@example.com', text: 'before' });
        await own.stop();
        // A new connection asks for a token again; Redis is gone, the provider's memory answers.
        const second = createGmailTransport({
          strategy: 'oauth2',
          user: 'me@gmail.com',
          clientId: uniqueClientId(),
          clientSecret: CLIENT_SECRET,
          refreshToken: REFRESH_TOKEN,
          tokenStore: store,
          tokenStoreTimeoutMs: 500,
          smtp: localSmtp(smtp),
          retry: false,
        });
        second.on('warning', (w) => warnings.push(w));
        await mailer.sendMail({ from: 'me@gmail.com', to: 'you@example.com', text: 'after' });
        await second.sendMail({ from: 'me@gmail.com', to: 'you@example.com', text: 'other credentials, store down' });
        expect(smtp.messages.map((m) => m.parsed.text?.trim())).toEqual(['before', 'after', 'other credentials, store down']);
        expect(authority.requests).toHaveLength(2);
        expect(warnings.length).toBeGreaterThan(0);
        expect(warnings.every((w) => w.code.startsWith('TOKEN_'))).toBe(true);
        mailer.close();
        second.close();
        await store.disconnect().catch(() => undefined);
      });
    });
  });
}
