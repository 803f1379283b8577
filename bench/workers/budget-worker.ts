/**
 * One process of the sending-budget figure: sends batches through the app-password strategy,
 * alternating between its sides (budget off, in memory, in Redis, off again), the order
 * flipping every round. Every side runs this library's code, so sharing a JIT and a heap is
 * what an application with the option on or off does. Warmup rounds first, then measured ones;
 * reports each side's wall and CPU times and exits.
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
  sides: Array<'off' | 'memory' | 'redis' | 'off-again'>;
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

export interface BudgetSamples {
  wallMs: number[];
  cpuMs: number[];
}

/** Each side's measured batches, in round order. */
export type BudgetReport = Partial<Record<BudgetJob['sides'][number], BudgetSamples>>;

const WATCHDOG_MS = 5 * 60_000;
setTimeout(() => {
  process.stderr.write('budget worker: no result within 5 min\n');
  process.exit(3);
}, WATCHDOG_MS).unref();

const job = await new Promise<BudgetJob>((resolve) => process.once('message', (m) => resolve(m as BudgetJob)));
const standIns = { smtpPort: job.smtpPort, cert: job.cert } as StandIns;
const pool: PoolShape = { maxConnections: job.pool.maxConnections, maxMessages: job.pool.maxMessages ?? Number.POSITIVE_INFINITY };
const pkg = (await import(pathToFileURL(job.distEsm).href)) as Package;
const store = job.sides.includes('redis') ? new Keyv(new KeyvRedis(job.redisUrl!, { throwOnConnectError: true, connectionTimeout: 2_000 })) : undefined;

let serial = 0;
const samples = await interleavedRounds(
  job.sides.map((side) => ({
    name: side,
    run: async () => {
      const budget = side === 'off' || side === 'off-again' ? false : { ...BENCH_LIMITS, ...(side === 'redis' ? { store } : {}) };
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
      if (warnings.length > 0) throw new Error(`budget worker ${side}: warnings ${warnings.join(', ')}`);
    },
  })),
  { rounds: job.measuredBatches, warmupRounds: job.warmupBatches, label: 'budget worker' },
);
await store?.disconnect();
const report: BudgetReport = Object.fromEntries(samples.map((s) => [s.name, { wallMs: s.wallMs, cpuMs: s.cpuMs }]));
process.send?.(report, () => process.disconnect());
