/**
 * 5. Sending budget: the same pooled messages through the app-password strategy with the
 * budget off, counted in memory (the default store), and counted in Redis, batches
 * alternating between them inside each process.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { appPasswordConfig, unsupportedReason, BENCH_LIMITS, type PoolShape } from './helpers/configs.js';
import { DIST_ESM } from './helpers/package.js';
import { redisMissing, startRedis } from './helpers/redis.js';
import { fmtRatio, fmtSpread, pairedRatios, spread, table } from './helpers/stats.js';
import type { BenchContext, SectionResult } from './helpers/context.js';
import type { BudgetJob, BudgetReport } from './workers/budget-worker.js';

const MEMORY_TARGET = 1.02;
const REDIS_TARGET = 1.1;
const WORKER = fileURLToPath(new URL('./workers/budget-worker.ts', import.meta.url));

type Side = BudgetJob['sides'][number];

export async function benchBudget(ctx: BenchContext): Promise<SectionResult> {
  const { pkg, standIns, log } = ctx;
  const title = '5. Sending budget';
  const count = ctx.scale.overheadMessages;
  const { alternatingProcesses: processes, alternatingRounds: rounds, overheadBatches: batches } = ctx.scale;
  const pool: PoolShape = { maxConnections: 5, maxMessages: Number.POSITIVE_INFINITY };
  const skip = unsupportedReason(pkg, appPasswordConfig(standIns, pool, { budget: BENCH_LIMITS }));
  if (skip) {
    log(`budget: skipped: ${skip}`);
    return { title, markdown: `skipped: ${skip}`, checks: [] };
  }
  const missing = redisMissing();
  const redis = missing ? undefined : await startRedis();
  try {
    const sides: Side[] = ['off', 'memory', ...(redis ? ['redis' as const] : []), 'off-again'];
    log(`budget: ${processes} processes, each alternating ${sides.join(', ')}, ${batches.warmup} + ${rounds} rounds of ${count} messages`);
    await standIns.reset();
    const results: Record<Side, { wallMs: number[]; cpuMs: number[] }> = {
      off: { wallMs: [], cpuMs: [] },
      memory: { wallMs: [], cpuMs: [] },
      redis: { wallMs: [], cpuMs: [] },
      'off-again': { wallMs: [], cpuMs: [] },
    };
    for (let process = 0; process < processes; process++) {
      // The order rotates between processes too: each side starts a round equally often.
      const order = sides.map((_, i) => sides[(i + process) % sides.length]!);
      const report = await runWorker({
        sides: order,
        distEsm: DIST_ESM,
        smtpPort: standIns.smtpPort,
        cert: standIns.cert,
        ...(redis ? { redisUrl: redis.url } : {}),
        messages: count,
        pool: { maxConnections: pool.maxConnections, maxMessages: null },
        warmupBatches: batches.warmup,
        measuredBatches: rounds,
      });
      for (const side of sides) {
        results[side].wallMs.push(...report[side]!.wallMs);
        results[side].cpuMs.push(...report[side]!.cpuMs);
      }
    }
    const stats = await standIns.stats();
    const expected = count * (batches.warmup + rounds) * processes * sides.length;
    if (stats.smtpMessages !== expected) throw new Error(`budget: the server counted ${stats.smtpMessages} messages, expected ${expected}`);

    const rows: string[][] = [];
    const checks: SectionResult['checks'] = [];
    const off = results.off;
    for (const [side, target, label] of [
      ['memory', MEMORY_TARGET, 'memory store (default)'],
      ['redis', REDIS_TARGET, 'Redis store'],
      ['off-again', undefined, '`budget: false` ÷ `budget: false` (noise floor)'],
    ] as const) {
      if (!sides.includes(side)) {
        rows.push([label, `skipped: ${missing}`, '', '', '']);
        continue;
      }
      const wall = spread(pairedRatios(results[side].wallMs, off.wallMs));
      const cpu = spread(pairedRatios(results[side].cpuMs, off.cpuMs));
      rows.push([label, fmtSpread(spread(results[side].wallMs), 'ms'), fmtSpread(spread(off.wallMs), 'ms'), `**${fmtRatio(wall)}**`, fmtRatio(cpu)]);
      if (target !== undefined) checks.push({ name: `budget ${label}: wall ratio`, value: wall.median, target });
      log(`  ${label}: wall ${fmtRatio(wall)}; cpu ${fmtRatio(cpu)}`);
    }
    const markdown = [
      `${count} messages (about 1.3 kB each) sent at once through the app-password strategy, a pool of ${pool.maxConnections} connections with \`maxMessages: Infinity\`, to the TLS stand-in. ${processes} processes; each alternates the sides (\`budget: false\`, the memory store, a local redis-server, and \`budget: false\` again: how far from 1.000 a ratio lands by noise alone), a fresh transport per batch, each batch as a new mailbox (an empty count), the order flipping every round, ${batches.warmup} warmup and ${rounds} measured rounds. Ratios are each budget ÷ \`budget: false\` per round (n=${processes * rounds}); targets: wall ≤ ${MEMORY_TARGET}x with the memory store, ≤ ${REDIS_TARGET}x with Redis. CPU is the sending process's (redis-server runs in its own).`,
      '',
      table(['budget', 'wall', '`budget: false` wall', 'wall ratio', 'CPU ratio'], rows),
    ].join('\n');
    return { title, markdown, checks };
  } finally {
    await redis?.stop();
  }
}

/** Forks one worker, hands it the job, and returns its report once it exited. */
function runWorker(job: BudgetJob): Promise<BudgetReport> {
  const child = fork(WORKER, [], { execArgv: ['--expose-gc', '--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise<BudgetReport>((resolve, reject) => {
    let report: BudgetReport | undefined;
    child.once('message', (message) => {
      report = message as BudgetReport;
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (report && code === 0) resolve(report);
      else reject(new Error(`budget worker (${job.sides.join(', ')}) exited with ${signal ?? code} ${report ? 'after' : 'before'} its report`));
    });
    child.send(job);
  });
}
