/**
 * 5. Send log: what the `sendLog` option adds to a pooled run (the same run of ours with and
 * without it, batches alternating inside each process), and how long `readSendLog` takes to
 * filter 100,000 records by recipient.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIST_ESM } from './helpers/package.js';
import { fmt, fmtRatio, fmtSpread, pairedRatios, spread, table } from './helpers/stats.js';
import { runWorker } from './overhead.js';
import type { BenchContext, SectionResult } from './helpers/context.js';

const WALL_TARGET = 1.03;
const FILTER_TARGET_MS = 1_000;
const DAYS = 7;

export async function benchSendLog(ctx: BenchContext): Promise<SectionResult> {
  const { pkg, standIns, log } = ctx;
  const count = ctx.scale.overheadMessages;
  const { overheadBatches: batches, alternatingRounds: rounds } = ctx.scale;
  const checks: SectionResult['checks'] = [];

  const processes = ctx.scale.alternatingProcesses;
  log(`send-log: ${processes} processes, each alternating batches without and with a log, ${batches.warmup} + ${rounds} rounds of ${count} messages`);
  await standIns.reset();
  const sides = await alternatingProcesses(ctx, true);
  // The noise floor of the method: the same rounds without a log on both sides.
  log(`send-log: noise floor, ${processes} processes, without and without`);
  const floorSides = await alternatingProcesses(ctx, false);
  const stats = await standIns.stats();
  const expected = count * (batches.warmup + rounds) * processes * 4;
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
    `**Cost of the \`sendLog\` option**: the overhead section's app-password run (${count} messages, pool of 5, \`maxMessages: Infinity\`, TLS stand-in), ours with \`sendLog: { dir }\` against ours without. ${processes} processes; each alternates the two, a fresh transport per batch, the order flipping every round, ${batches.warmup} warmup and ${rounds} measured rounds; ratios per round (n=${processes * rounds}). The noise floor runs the same rounds with no log on either side. Target: wall ≤ ${WALL_TARGET}x.`,
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
 * Worker processes that alternate batches without and with a log (`log` unset: without on both
 * sides, the noise floor); every record written is counted.
 */
async function alternatingProcesses(ctx: BenchContext, log: boolean): Promise<{ with: Samples; without: Samples }> {
  const { standIns, scale } = ctx;
  const { overheadMessages: count, overheadBatches: batches, alternatingRounds: rounds } = scale;
  const sides = { with: { wallMs: [] as number[], cpuMs: [] as number[] }, without: { wallMs: [] as number[], cpuMs: [] as number[] } };
  for (let process = 0; process < scale.alternatingProcesses; process++) {
    const dir = mkdtempSync(join(tmpdir(), 'bench-send-log-'));
    try {
      const report = await runWorker({
        side: 'ours',
        route: 'app-password',
        distEsm: DIST_ESM,
        smtpPort: standIns.smtpPort,
        cert: standIns.cert,
        tokenUrl: standIns.tokenUrl,
        clientIdPrefix: `send-log-${log ? 'with' : 'floor'}-p${process}`,
        messages: count,
        pool: { maxConnections: 5, maxMessages: null },
        warmupBatches: batches.warmup,
        measuredBatches: rounds,
        alternate: log ? { withLogDir: dir } : {},
      });
      for (const side of ['with', 'without'] as const) {
        sides[side].wallMs.push(...report[side].wallMs);
        sides[side].cpuMs.push(...report[side].cpuMs);
      }
      const written = readdirSync(dir).reduce((n, name) => n + readFileSync(join(dir, name), 'utf8').split('\n').filter(Boolean).length, 0);
      const expected = log ? count * (batches.warmup + rounds) : 0;
      if (written !== expected) throw new Error(`send-log: ${written} records written, expected ${expected}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
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
          ...(i % 50 === 0
            ? { code: 'RATE_LIMITED', response: '421 4.7.0 Try again later, closing connection. a1si123.9 - gsmtp' }
            : { response: '250 2.0.0 OK  1715071234 d9443c01a7336-1f2a3b4c5d6sm1234567ad.54 - gsmtp', upstreamId: 'd9443c01a7336-1f2a3b4c5d6sm1234567ad.54' }),
          latencyMs: 180 + (i % 400),
          attempts: 1,
        }),
      );
    }
    writeFileSync(join(dir, `send-${new Date(start + day * 86_400_000).toISOString().slice(0, 10)}.jsonl`), `${lines.join('\n')}\n`);
  }
  return wanted;
}
