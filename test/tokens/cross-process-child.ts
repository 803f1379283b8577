/**
 * One "process" of the cross-process test (lock.test.ts): builds a transport on a Redis-backed
 * store, says `ready`, waits for `go` on stdin so that every process starts cold at the same
 * moment, sends one message and prints what happened as one JSON line.
 */
import { createInterface } from 'node:readline';
import Keyv from 'keyv';
import KeyvRedis, { createClient } from '@keyv/redis';
import { createGmailTransport, type TokenStore, type TransportEvents } from '../../src/index.js';
import { localSmtpFromEnv, need, oauth2FromEnv } from '../helpers/child-env.js';

const storeKind = process.env.STORE_KIND ?? 'keyv-redis';
let disconnect: () => Promise<unknown>;
let tokenStore: TokenStore;
if (storeKind === 'keyv-redis') {
  const keyv = new Keyv(new KeyvRedis(need('REDIS_URL'), { throwOnConnectError: true, connectionTimeout: 2_000 }));
  tokenStore = keyv;
  disconnect = () => keyv.disconnect();
} else {
  // A bare { get, set, delete } over Redis: shares tokens, but cannot lock.
  const client = createClient({ url: need('REDIS_URL') });
  await client.connect();
  tokenStore = {
    get: async (k) => (await client.get(k)) ?? undefined,
    set: (k, v, ttlMs) => client.set(k, v, ttlMs ? { PX: ttlMs } : {}),
    delete: (k) => client.del(k),
  };
  disconnect = () => client.quit();
}

const mailer = createGmailTransport({
  ...oauth2FromEnv(),
  tokenStore,
  ...(process.env.ENCRYPTION_KEY ? { tokenEncryptionKey: process.env.ENCRYPTION_KEY } : {}),
  smtp: localSmtpFromEnv(),
  retry: false,
});
const tokens: TransportEvents['token'][] = [];
const warnings: TransportEvents['warning'][] = [];
mailer.on('token', (e) => tokens.push(e));
mailer.on('warning', (w) => warnings.push(w));

const lines = createInterface({ input: process.stdin });
process.stdout.write('ready\n');
for await (const line of lines) {
  if (line.trim() === 'go') break;
}
let result: Record<string, unknown>;
try {
  await mailer.sendMail({ from: 'me@gmail.com', to: 'you@example.com', subject: `from ${process.pid}`, text: 'x' });
  result = { ok: true, tokens, warnings };
} catch (err) {
  result = { ok: false, error: { code: (err as { code?: string }).code, message: (err as Error).message }, tokens, warnings };
}
mailer.close();
await disconnect();
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
