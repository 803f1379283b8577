/**
 * One process of the sending-budget figure: sends batches through the app-password strategy
 * with one kind of budget only (off, memory, Redis), so that no side shares a JIT, an inline
 * cache or a heap with another. Warmup batches first, then measured ones; reports their wall
 * and CPU times and exits.
 */
import { pathToFileURL } from 'node:url';
import Keyv from 'keyv';
import KeyvRedis from '@keyv/redis';
import type { Transporter } from 'nodemailer';
import { appPasswordConfig, sendAll, BENCH_LIMITS, type PoolShape } from '../helpers/configs.js';
import { interleavedRounds } from '../helpers/interleave.js';
import type { Package } from '../helpers/package.js';
import type { StandIns } from '../helpers/stand-ins.js';

export interface BudgetJob {
  /** `off-again`: `budget: false` once more, the noise floor of the method. */
  side: 'off' | 'memory' | 'redis' | 'off-again';
  distEsm: string;
  smtpPort: number;
  cert: string;
  redisUrl?: string;
  messages: number;
  /** `maxMessages: null` is Infinity (the IPC channel carries JSON). */
  pool: { maxConnections: number; maxMessages: number | null };
  warmupBatches: number;
  measuredBatches: number;
}

export interface BudgetReport {
  wallMs: number[];
  cpuMs: number[];
}

const WATCHDOG_MS = 5 * 60_000;
setTimeout(() => {
  process.stderr.write('budget worker: no result within 5 min\n');
  process.exit(3);
}, WATCHDOG_MS).unref();

const job = await new Promise<BudgetJob>((resolve) => process.once('message', (m) => resolve(m as BudgetJob)));
const standIns = { smtpPort: job.smtpPort, cert: job.cert } as StandIns;
const pool: PoolShape = { maxConnections: job.pool.maxConnections, maxMessages: job.pool.maxMessages ?? Number.POSITIVE_INFINITY };
const pkg = (await import(pathToFileURL(job.distEsm).href)) as Package;
const store = job.side === 'redis' ? new Keyv(new KeyvRedis(job.redisUrl!, { throwOnConnectError: true, connectionTimeout: 2_000 })) : undefined;
const budget = job.side === 'off' || job.side === 'off-again' ? false : { ...BENCH_LIMITS, ...(store ? { store } : {}) };

let serial = 0;
const [samples] = await interleavedRounds(
  [
    {
      name: job.side,
      run: async () => {
        // Each batch counts as a mailbox of its own: every batch starts from an empty count.
        const config = appPasswordConfig(standIns, pool, { user: `bench-${process.pid}-${++serial}@example.com`, budget });
        const mailer = pkg.createGmailTransport(config as never) as unknown as Transporter;
        const warnings: string[] = [];
        mailer.on('warning', (w: { code: string }) => warnings.push(w.code));
        try {
          await sendAll(mailer, job.messages);
        } finally {
          mailer.close();
        }
        if (warnings.length > 0) throw new Error(`budget worker ${job.side}: warnings ${warnings.join(', ')}`);
      },
    },
  ],
  { rounds: job.measuredBatches, warmupRounds: job.warmupBatches, label: `budget worker ${job.side}` },
);
await store?.disconnect();
const report: BudgetReport = { wallMs: samples!.wallMs, cpuMs: samples!.cpuMs };
process.send?.(report, () => process.disconnect());
