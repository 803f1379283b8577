/**
 * 5. Send log: what the `sendLog` option adds to a pooled run (the same run of ours with and
 * without it, each in processes of their own), and how long `readSendLog` takes to filter
 * 100,000 records by recipient.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIST_ESM } from './helpers/package.js';
import { fmt, fmtRatio, fmtSpread, median, pairedRatios, spread, table } from './helpers/stats.js';
import { runWorker } from './overhead.js';
import type { BenchContext, SectionResult } from './helpers/context.js';

const WALL_TARGET = 1.03;
const FILTER_TARGET_MS = 1_000;
const DAYS = 7;

export async function benchSendLog(ctx: BenchContext): Promise<SectionResult> {
  const { pkg, standIns, log } = ctx;
  const count = ctx.scale.overheadMessages;
  const { sendLogPairs: pairs, overheadBatches: batches } = ctx.scale;
  const checks: SectionResult['checks'] = [];

  log(`send-log: ${pairs} pairs of processes (without, with), ${batches.warmup} + ${batches.measured} batches of ${count} messages each`);
  await standIns.reset();
  const sides = await pairsOfProcesses(ctx, pairs, true);
  // The noise floor of the method: the same run without a log on both sides.
  log(`send-log: noise floor, ${pairs} pairs of processes (without, without)`);
  const floorSides = await pairsOfProcesses(ctx, pairs, false);
  const stats = await standIns.stats();
  const expected = count * (batches.warmup + batches.measured) * pairs * 4;
  if (stats.smtpMessages !== expected) throw new Error(`send-log: the server counted ${stats.smtpMessages} messages, expected ${expected}`);
  const wall = spread(pairedRatios(sides.with.wallMs, sides.without.wallMs));
  const cpu = spread(pairedRatios(sides.with.cpuMs, sides.without.cpuMs));
  const floorWall = spread(pairedRatios(floorSides.with.wallMs, floorSides.without.wallMs));
  const floorCpu = spread(pairedRatios(floorSides.with.cpuMs, floorSides.without.cpuMs));
  checks.push({ name: 'send log: wall ratio, with ÷ without', value: wall.median, target: WALL_TARGET });
  log(`  wall ${fmtRatio(wall)}; cpu ${fmtRatio(cpu)}; noise floor: wall ${fmtRatio(floorWall)}; cpu ${fmtRatio(floorCpu)}`);

  const records = ctx.scale.sendLogRecords;
  const dir = mkdtempSync(join(tmpdir(), 'bench-send-log-read-'));
  const filterMs: number[] = [];
  let matches = 0;
  try {
    const wanted = writeRecords(dir, records);
    log(`send-log: filtering ${records} records by recipient, ${ctx.scale.rounds} rounds`);
    for (let round = 0; round <= ctx.scale.rounds; round++) {
      const started = performance.now();
      matches = 0;
      for await (const _ of pkg.readSendLog({ dir, to: 'tanaka@example.co.jp' })) matches++;
      // Round 0 warms up the JIT and the page cache.
      if (round > 0) filterMs.push(performance.now() - started);
      if (matches !== wanted) throw new Error(`send-log: the filter found ${matches} records, expected ${wanted}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const filter = spread(filterMs);
  checks.push({ name: `send log: filter ${records} records by recipient (ms)`, value: filter.median, target: FILTER_TARGET_MS });
  log(`  filter ${fmtSpread(filter, 'ms')}`);

  const markdown = [
    `**Cost of the \`sendLog\` option**: the overhead section's app-password run (${count} messages, pool of 5, \`maxMessages: Infinity\`, TLS stand-in), ours with \`sendLog: { dir }\` against ours without, ${pairs} pairs of processes, the order flipping every pair; each process sends ${batches.warmup} warmup and ${batches.measured} measured batches and reports their median. Target: wall ≤ ${WALL_TARGET}x.`,
    '',
    table(
      ['', 'without', 'with', 'ratio (with ÷ without)', 'noise floor (without ÷ without)'],
      [
        ['wall', fmtSpread(spread(sides.without.wallMs), 'ms'), fmtSpread(spread(sides.with.wallMs), 'ms'), `**${fmtRatio(wall)}**`, fmtRatio(floorWall)],
        ['CPU (sending process)', fmtSpread(spread(sides.without.cpuMs), 'ms'), fmtSpread(spread(sides.with.cpuMs), 'ms'), fmtRatio(cpu), fmtRatio(floorCpu)],
      ],
    ),
    '',
    `**Filtering**: \`readSendLog({ dir, to })\` over ${records} records in ${DAYS} daily files (about ${fmt(records / DAYS, 0)} a day), ${matches} of them to the recipient searched, newest first; ${ctx.scale.rounds} rounds after a warmup round: ${fmtSpread(filter, 'ms')} (target < ${FILTER_TARGET_MS} ms).`,
  ].join('\n');
  return { title: '5. Send log', markdown, checks };
}

interface Samples {
  wallMs: number[];
  cpuMs: number[];
}

/**
 * Pairs of worker processes, the order flipping every pair: `without` sends without a log,
 * `with` with one when `log` is set (else also without: the noise floor).
 */
async function pairsOfProcesses(ctx: BenchContext, pairs: number, log: boolean): Promise<{ with: Samples; without: Samples }> {
  const { standIns, scale } = ctx;
  const { overheadMessages: count, overheadBatches: batches } = scale;
  const sides = { with: { wallMs: [] as number[], cpuMs: [] as number[] }, without: { wallMs: [] as number[], cpuMs: [] as number[] } };
  for (let pair = 0; pair < pairs; pair++) {
    const order: Array<'with' | 'without'> = pair % 2 === 0 ? ['without', 'with'] : ['with', 'without'];
    for (const side of order) {
      const dir = mkdtempSync(join(tmpdir(), 'bench-send-log-'));
      const logged = log && side === 'with';
      try {
        const report = await runWorker({
          side: 'ours',
          route: 'app-password',
          distEsm: DIST_ESM,
          smtpPort: standIns.smtpPort,
          cert: standIns.cert,
          tokenUrl: standIns.tokenUrl,
          clientIdPrefix: `send-log-${side}-p${pair}`,
          messages: count,
          pool: { maxConnections: 5, maxMessages: null },
          warmupBatches: batches.warmup,
          measuredBatches: batches.measured,
          ...(logged ? { sendLogDir: dir } : {}),
        });
        sides[side].wallMs.push(median(report.wallMs));
        sides[side].cpuMs.push(median(report.cpuMs));
        const written = readdirSync(dir).reduce((n, name) => n + readFileSync(join(dir, name), 'utf8').split('\n').filter(Boolean).length, 0);
        const expected = logged ? count * (batches.warmup + batches.measured) : 0;
        if (written !== expected) throw new Error(`send-log: ${written} records written, expected ${expected}`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  return sides;
}

/** Writes `count` realistic records over the last few days; returns how many go to the recipient searched. */
function writeRecords(dir: string, count: number): number {
  const perDay = Math.ceil(count / DAYS);
  const start = Date.UTC(2024, 4, 1);
  let wanted = 0;
  for (let day = 0; day < DAYS; day++) {
    const lines: string[] = [];
    for (let i = day * perDay; i < Math.min(count, (day + 1) * perDay); i++) {
      const to = i % 997 === 0 ? ['tanaka@example.co.jp'] : [`customer${i}@example.com`, ...(i % 3 === 0 ? [`cc${i}@example.org`] : [])];
      if (to[0] === 'tanaka@example.co.jp') wanted++;
      const time = new Date(start + day * 86_400_000 + Math.floor(((i % perDay) / perDay) * 86_400_000));
      lines.push(
        JSON.stringify({
          id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
          time: time.toISOString(),
          strategy: 'oauth2',
          user: 'office@example.com',
          from: 'office@example.com',
          to,
          messageId: `<${i}.bench@example.com>`,
          size: 1_300 + (i % 5_000),
          status: i % 50 === 0 ? 'deferred' : 'delivered',
          ...(i % 50 === 0 ? { code: 'RATE_LIMITED', response: '421 4.7.0 Try again later, closing connection. a1si123.9 - gsmtp' } : { response: '250 2.0.0 OK  1715071234 d9443c01a7336-1f2a3b4c5d6sm1234567ad.54 - gsmtp', upstreamId: 'd9443c01a7336-1f2a3b4c5d6sm1234567ad.54' }),
          latencyMs: 180 + (i % 400),
          attempts: 1,
        }),
      );
    }
    writeFileSync(join(dir, `send-${new Date(start + day * 86_400_000).toISOString().slice(0, 10)}.jsonl`), `${lines.join('\n')}\n`);
  }
  return wanted;
}
