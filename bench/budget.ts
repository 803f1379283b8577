/**
 * 5. Sending budget: the same pooled messages through the app-password strategy with the
 * budget off, counted in memory (the default store), and counted in Redis (one atomic script
 * per message), in interleaved rounds in this process.
 */
import Keyv from 'keyv';
import KeyvRedis from '@keyv/redis';
import type { Transporter } from 'nodemailer';
import { appPasswordConfig, sendAll, unsupportedReason, type PoolShape } from './helpers/configs.js';
import { interleavedRounds, type Contender } from './helpers/interleave.js';
import { redisMissing, startRedis } from './helpers/redis.js';
import { fmtRatio, fmtSpread, pairedRatios, spread, table } from './helpers/stats.js';
import type { BenchContext, SectionResult } from './helpers/context.js';

const MEMORY_TARGET = 1.02;
const REDIS_TARGET = 1.1;
/** Limits no round reaches: every message is counted and none refused. */
const LIMITS = { messagesPerDay: 1_000_000, recipientsPerDay: 1_000_000 };

export async function benchBudget(ctx: BenchContext): Promise<SectionResult> {
  const { pkg, standIns, log } = ctx;
  const title = '5. Sending budget';
  const count = ctx.scale.overheadMessages;
  const pool: PoolShape = { maxConnections: 5, maxMessages: Number.POSITIVE_INFINITY };
  const skip = unsupportedReason(pkg, appPasswordConfig(standIns, pool, { budget: LIMITS }));
  if (skip) {
    log(`budget: skipped: ${skip}`);
    return { title, markdown: `skipped: ${skip}`, checks: [] };
  }
  const missing = redisMissing();
  const redis = missing ? undefined : await startRedis();
  const store = redis ? new Keyv(new KeyvRedis(redis.url, { throwOnConnectError: true, connectionTimeout: 2_000 })) : undefined;
  try {
    // Each round counts as a mailbox of its own: every round starts from an empty count.
    let serial = 0;
    const contender = (name: string, budget: () => unknown): Contender => ({
      name,
      run: async () => {
        const config = appPasswordConfig(standIns, pool, { user: `bench-${process.pid}-${++serial}@example.com`, budget: budget() });
        const mailer = pkg.createGmailTransport(config as never) as unknown as Transporter;
        const warnings: string[] = [];
        mailer.on('warning', (w: { code: string }) => warnings.push(w.code));
        try {
          await sendAll(mailer, count);
        } finally {
          mailer.close();
        }
        if (warnings.length > 0) throw new Error(`budget ${name}: warnings ${warnings.join(', ')}`);
      },
    });
    const contenders = [contender('budget: false', () => false), contender('memory', () => LIMITS), ...(store ? [contender('Redis', () => ({ ...LIMITS, store }))] : [])];
    log(`budget: ${count} messages x ${ctx.scale.rounds} rounds per side (${contenders.map((c) => c.name).join(', ')})`);
    await standIns.reset();
    const [off, memory, viaRedis] = await interleavedRounds(contenders, { rounds: ctx.scale.rounds, warmupRounds: 1, label: title });
    const stats = await standIns.stats();
    const expected = count * (ctx.scale.rounds + 1) * contenders.length;
    if (stats.smtpMessages !== expected) throw new Error(`budget: the server counted ${stats.smtpMessages} messages, expected ${expected}`);

    const rows: string[][] = [];
    const checks: SectionResult['checks'] = [];
    for (const [side, target, label] of [
      [memory, MEMORY_TARGET, 'memory store (default)'],
      [viaRedis, REDIS_TARGET, 'Redis store'],
    ] as const) {
      if (!side) {
        rows.push([label, `skipped: ${missing}`, '', '', '']);
        continue;
      }
      const wall = spread(pairedRatios(side.wallMs, off!.wallMs));
      const cpu = spread(pairedRatios(side.cpuMs, off!.cpuMs));
      rows.push([label, fmtSpread(spread(side.wallMs), 'ms'), fmtSpread(spread(off!.wallMs), 'ms'), `**${fmtRatio(wall)}**`, fmtRatio(cpu)]);
      checks.push({ name: `budget ${label}: wall ratio`, value: wall.median, target });
    }
    const markdown = [
      `${count} messages (about 1.3 kB each) sent at once through the app-password strategy, a pool of ${pool.maxConnections} connections with \`maxMessages: Infinity\`, to the TLS stand-in; ${ctx.scale.rounds} rounds after a warmup round, the order of the sides rotating every round, a new mailbox (an empty count) each round. Ratios are each budget ÷ \`budget: false\` per round; targets: wall ≤ ${MEMORY_TARGET}x with the memory store, ≤ ${REDIS_TARGET}x with Redis (a local redis-server, one script call per message).`,
      '',
      table(['budget', 'wall', '`budget: false` wall', 'wall ratio', 'CPU ratio (this process)'], rows),
    ].join('\n');
    return { title, markdown, checks };
  } finally {
    await store?.disconnect().catch(() => undefined);
    await redis?.stop();
  }
}
