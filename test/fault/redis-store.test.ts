import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import Keyv from 'keyv';
import KeyvRedis, { createClient } from '@keyv/redis';
import { createGmailTransport, type GmailTransportConfig, type TransportEvents } from '../../src/index.js';
import { HAS_REDIS, REDIS_SKIP_REASON } from '../helpers/redis.js';
import { startKillableRedis, type KillableRedis } from '../helpers/fault-redis.js';
import { startRecordingServer, type RecordingServer } from '../helpers/smtp-server.js';
import { startTokenEndpoint, type BreakableTokenEndpoint } from '../helpers/fault-token-endpoint.js';
import { duplicates, sendAll, startScenarioGuard } from '../helpers/fault-harness.js';
import { localSmtp, oauth2Credentials, REFRESH_TOKEN } from '../helpers/oauth-fixtures.js';

const USER = 'me@gmail.com';

if (!HAS_REDIS) {
  describe.skip(`a Redis token store killed mid-run${REDIS_SKIP_REASON}`, () => {
    it('needs redis-server', () => undefined);
  });
} else {
  describe('a Redis token store killed mid-run (SIGKILL) and restarted on the same port', () => {
    let redis: KillableRedis;
    let smtp: RecordingServer;
    let endpoint: BreakableTokenEndpoint;

    beforeAll(async () => {
      redis = await startKillableRedis();
      endpoint = await startTokenEndpoint();
      smtp = await startRecordingServer({ secure: true, checkAuth: (auth) => auth.method === 'XOAUTH2' && endpoint.isValid(auth.accessToken, Date.now()) });
    });
    afterEach(() => {
      vi.useRealTimers();
    });
    afterAll(async () => {
      await smtp.close();
      await endpoint.close();
      await redis.stop();
    });

    /** Keys the library wrote to the (current) redis-server, read with a client of our own. */
    async function tokenKeys(): Promise<string[]> {
      const client = createClient({ url: redis.url });
      await client.connect();
      try {
        return await client.keys('*gmail-transport:v2:*');
      } finally {
        client.destroy();
      }
    }

    it('mail keeps flowing, each message delivered once, with warnings; the store is used again once Redis is back', async () => {
      // Time moves only when the test says so: token expiry and the store's rest period after a
      // failure are both read from Date.
      vi.useFakeTimers({ toFake: ['Date'] });
      const adapter = new KeyvRedis(redis.url, { throwOnConnectError: true, throwOnErrors: true, connectionTimeout: 300 });
      // No 'error' listener of our own: the library must take Keyv's error events itself.
      const store = new Keyv(adapter);
      const guard = startScenarioGuard();
      const mailer = createGmailTransport({
        ...oauth2Credentials(USER, endpoint.url),
        tokenStore: store,
        tokenStoreTimeoutMs: 300,
        smtp: localSmtp(smtp),
        // Every message on a new connection, so that every message logs in and needs a token.
        pool: true,
        maxConnections: 2,
        maxMessages: 1,
        retry: { attempts: 3, minDelayMs: 1, maxDelayMs: 5 },
      } as GmailTransportConfig);
      const warnings: TransportEvents['warning'][] = [];
      const tokens: TransportEvents['token'][] = [];
      mailer.on('warning', (w) => warnings.push(w));
      mailer.on('token', (t) => tokens.push(t));
      const before = smtp.messages.length;
      const batch = (name: string) => Array.from({ length: 5 }, (_, i) => `${name}${i}`);

      // 1. Redis up: one token, fetched and shared through Redis.
      const first = await sendAll(mailer, batch('up'));
      expect(first.every((o) => o.ok)).toBe(true);
      expect(await tokenKeys()).toHaveLength(1);

      // 2. Four minutes before expiry the token is refreshed. Redis dies while that refresh
      //    waits on the token endpoint, with five messages waiting on the refresh.
      vi.setSystemTime(Date.now() + 56 * 60_000);
      endpoint.answer = (n) => (n === 2 ? { kind: 'hang' } : { kind: 'token' });
      const refreshing = endpoint.nextRequest();
      const during = sendAll(mailer, batch('killed'));
      await refreshing;
      await redis.kill();
      endpoint.releaseHeld();
      expect((await during).filter((o) => !o.ok)).toEqual([]);
      // The outage is reported (once: the store then rests), whichever call noticed it first.
      expect(warnings.length).toBeGreaterThan(0);

      // 3. Redis is back, empty; the client reconnects on its own. Once the store's rest period
      //    is over and the next refresh is due, the token goes to the new Redis again.
      const reconnected = new Promise<void>((resolve) => adapter.client.once('ready', () => resolve()));
      await redis.restart();
      await reconnected;
      vi.setSystemTime(Date.now() + 56 * 60_000);
      const after = await sendAll(mailer, batch('back'));
      expect(after.every((o) => o.ok)).toBe(true);
      expect(await tokenKeys()).toHaveLength(1);

      const delivered = smtp.messages.slice(before).map((m) => String(m.parsed.headers.get('x-fault-id')));
      expect(delivered.sort()).toEqual([...batch('up'), ...batch('killed'), ...batch('back')].sort());
      expect(duplicates(delivered)).toEqual([]);
      // One request per expiry window: the outage cost no extra one.
      expect(endpoint.requests).toBe(3);
      expect(tokens.map((t) => t.source)).toEqual(['endpoint', 'endpoint', 'endpoint']);
      expect(warnings.length).toBeGreaterThan(0);
      expect(warnings.every((w) => w.code.startsWith('TOKEN_'))).toBe(true);
      expect(JSON.stringify(warnings)).not.toContain(REFRESH_TOKEN);

      mailer.close();
      // The store belongs to the caller, who closes it; the library holds nothing of it.
      await store.disconnect();
      await guard.finish([mailer]);
    });
  });
}
