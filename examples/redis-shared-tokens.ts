/**
 * Several worker processes (node:cluster) sharing one OAuth2 access token through Redis: the
 * workers start cold at the same time, one of them asks Google for a token (under a Redis lock)
 * and the others read it from the store. Without the shared store, each worker would make its
 * own token request at start and about once an hour after.
 *
 *   REDIS_URL=redis://127.0.0.1:6379 GMAIL_USER=… GMAIL_CLIENT_ID=… GMAIL_CLIENT_SECRET=… GMAIL_REFRESH_TOKEN=… EXAMPLE_TO=… npx tsx examples/redis-shared-tokens.ts
 *   REDIS_URL=redis://127.0.0.1:6379 npm run example -- redis-shared-tokens   # against local stand-ins (Redis must run)
 */
import cluster from 'node:cluster';
import Keyv from 'keyv';
import KeyvRedis from '@keyv/redis';
import { createGmailTransport, type GmailTransporter, type OAuth2Config } from '../src/index.js'; // 'gmail-transport' in your app
import { isMain, openExampleTarget } from './lib/target.js';

const WORKERS = 3;

/** A transport whose access tokens live in Redis, shared by every process that uses the same URL. */
export function createSharedTokenMailer(config: Omit<OAuth2Config, 'tokenStore'>, redisUrl: string): { mailer: GmailTransporter; close(): Promise<void> } {
  // Without connectionTimeout an unreachable Redis would make @keyv/redis wait forever.
  const tokenStore = new Keyv(new KeyvRedis(redisUrl, { throwOnConnectError: true, connectionTimeout: 2_000 }));
  const mailer = createGmailTransport({
    ...config,
    tokenStore,
    // Seal the tokens at rest when Redis is shared with other apps: openssl rand -base64 32
    ...(process.env.TOKEN_ENCRYPTION_KEY ? { tokenEncryptionKey: process.env.TOKEN_ENCRYPTION_KEY } : {}),
  });
  return {
    mailer,
    close: async () => {
      mailer.close();
      await tokenStore.disconnect();
    },
  };
}

/** What a worker reports to the primary. */
interface WorkerReport {
  worker: number;
  tokenSource?: 'endpoint' | 'store';
  messageId?: string;
  error?: string;
}

async function worker(): Promise<void> {
  const target = await openExampleTarget();
  const credentials = target.oauth2();
  const { mailer, close } = createSharedTokenMailer({ strategy: 'oauth2', ...credentials, ...target.overrides.gmailSmtp }, target.redisUrl());
  const report: WorkerReport = { worker: cluster.worker?.id ?? 0 };
  mailer.on('token', ({ source }) => (report.tokenSource = source));
  try {
    const info = await mailer.sendMail({
      from: credentials.user,
      to: target.to(),
      subject: `Hello from worker ${report.worker}`,
      text: `Sent by process ${process.pid}.`,
    });
    report.messageId = String(info.messageId);
  } catch (err) {
    report.error = String(err);
  } finally {
    await close();
  }
  process.send?.(report, () => process.exit(0));
}

async function primary(): Promise<boolean> {
  const target = await openExampleTarget();
  const reports: WorkerReport[] = [];
  await Promise.all(
    Array.from({ length: WORKERS }, () => {
      const child = cluster.fork();
      child.on('message', (report: WorkerReport) => reports.push(report));
      return new Promise((resolve) => child.once('exit', resolve));
    }),
  );
  for (const r of reports.sort((a, b) => a.worker - b.worker)) {
    console.log(
      `worker ${r.worker}: ${r.error ?? `sent ${r.messageId}, access token from ${r.tokenSource === 'endpoint' ? "Google's token endpoint" : 'Redis'}`}`,
    );
  }
  const fromGoogle = reports.filter((r) => r.tokenSource === 'endpoint').length;
  console.log(`${WORKERS} workers, ${fromGoogle} token request(s) to Google.`);
  if (target.stack) console.log(`The local token endpoint issued ${target.stack.google.grants.length} token(s).`);
  await target.close();
  return reports.length === WORKERS && reports.every((r) => r.messageId);
}

export async function main(): Promise<void> {
  if (cluster.isPrimary) process.exitCode = (await primary()) ? 0 : 1;
  else await worker();
}

if (isMain(import.meta.url)) await main();
