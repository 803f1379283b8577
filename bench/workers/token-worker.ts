/**
 * One process of the "4 processes sharing a Redis store" figure. Builds a pooled transport
 * (ours on a Keyv + @keyv/redis store, or nodemailer's own XOAuth2), says ready, waits for
 * `go` so that every process starts cold at the same moment, sends its messages at once,
 * reports, and exits.
 */
import { pathToFileURL } from 'node:url';
import Keyv from 'keyv';
import KeyvRedis from '@keyv/redis';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Package } from '../helpers/package.js';

export interface WorkerJob {
  side: 'ours' | 'raw';
  distEsm: string;
  redisUrl: string;
  smtpPort: number;
  cert: string;
  tokenUrl: string;
  clientId: string;
  messages: number;
}

const USER = 'bench@gmail.com';
const CLIENT_SECRET = 'FAKE-SECRET-b3nc';
const REFRESH_TOKEN = 'FAKE-REFRESH-b3nc';
const WATCHDOG_MS = 60_000;

setTimeout(() => process.exit(3), WATCHDOG_MS).unref();

const job = await new Promise<WorkerJob>((resolve) => process.once('message', (m) => resolve(m as WorkerJob)));
const smtp = { host: '127.0.0.1', port: job.smtpPort, secure: true, tls: { ca: [job.cert] } };
const pool = { pool: true, maxConnections: 5, maxMessages: 100 };
let keyv: Keyv | undefined;
let mailer: Transporter;
if (job.side === 'ours') {
  const pkg = (await import(pathToFileURL(job.distEsm).href)) as Package;
  keyv = new Keyv(new KeyvRedis(job.redisUrl, { throwOnConnectError: true, connectionTimeout: 2_000 }));
  mailer = pkg.createGmailTransport({
    strategy: 'oauth2',
    user: USER,
    clientId: job.clientId,
    clientSecret: CLIENT_SECRET,
    refreshToken: REFRESH_TOKEN,
    endpoints: { token: job.tokenUrl },
    tokenStore: keyv,
    smtp,
    ...pool,
    budget: false,
  } as never) as unknown as Transporter;
} else {
  mailer = nodemailer.createTransport({
    ...smtp,
    ...pool,
    logger: false,
    auth: { type: 'OAuth2', user: USER, clientId: job.clientId, clientSecret: CLIENT_SECRET, refreshToken: REFRESH_TOKEN, accessUrl: job.tokenUrl },
  } as never);
}

process.send?.({ ready: true });
await new Promise<void>((resolve) => process.once('message', () => resolve()));
const sends: Promise<unknown>[] = [];
for (let i = 0; i < job.messages; i++)
  sends.push(mailer.sendMail({ from: USER, to: `rcpt${i}@example.com`, subject: `worker ${process.pid} #${i}`, text: 'Benchmark body.' }));
const results = await Promise.allSettled(sends);
const failed = results.filter((r) => r.status === 'rejected').length;
mailer.close();
await keyv?.disconnect();
process.send?.({ done: true, sent: results.length - failed, failed }, () => process.exit(0));
