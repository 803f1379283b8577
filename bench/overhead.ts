/**
 * 1. Overhead: N messages through createGmailTransport, pooled, vs nodemailer with the same
 * pool options, against the same TLS SMTP stand-in. Two ways: each side in processes of its
 * own, pairs of processes interleaved (the figures checked against the targets), and both
 * sides in this process, rounds interleaved.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import nodemailer from 'nodemailer';
import type { Transporter } from 'nodemailer';
import {
  appPasswordConfig,
  oauth2Config,
  rawOauth2Auth,
  rawSmtpOptions,
  sendAll,
  unsupportedReason,
  APP_PASSWORD,
  USER,
  type PoolShape,
} from './helpers/configs.js';
import { interleavedRounds, type Contender } from './helpers/interleave.js';
import { fmtRatio, fmtSpread, median, pairedRatios, spread, table, type Spread } from './helpers/stats.js';
import { DIST_ESM } from './helpers/package.js';
import type { BenchContext, SectionResult } from './helpers/context.js';
import type { AlternateReport, OverheadJob, OverheadReport } from './workers/overhead-worker.js';

const WALL_TARGET = 1.03;
const CPU_TARGET = 1.05;
const WORKER = fileURLToPath(new URL('./workers/overhead-worker.ts', import.meta.url));

type RouteName = OverheadJob['route'];

interface Variant {
  route: RouteName;
  label: string;
  ours: () => Transporter;
  raw: () => Transporter;
  skip?: string;
}

interface SideSamples {
  wallMs: number[];
  cpuMs: number[];
  minorGcMs: number[];
}

export async function benchOverhead(ctx: BenchContext): Promise<SectionResult> {
  const { pkg, standIns, log } = ctx;
  const count = ctx.scale.overheadMessages;
  const pool: PoolShape = { maxConnections: 5, maxMessages: Number.POSITIVE_INFINITY };
  const notes: string[] = [];
  const checks: SectionResult['checks'] = [];

  // oauth2: every round starts cold on both sides (a fresh client id is a fresh cache key), so
  // each round pays its token requests: one for us, one per pooled connection for nodemailer.
  let serial = 0;
  const oauth2Skip = unsupportedReason(pkg, oauth2Config(standIns, pool, 'probe.apps.googleusercontent.com'));
  const variants: Variant[] = [
    {
      route: 'app-password',
      label: 'app-password',
      ours: () => pkg.createGmailTransport(appPasswordConfig(standIns, pool) as never) as unknown as Transporter,
      raw: () => nodemailer.createTransport(rawSmtpOptions(standIns, pool, { user: USER, pass: APP_PASSWORD.replace(/ /g, '') }) as never),
    },
    {
      route: 'oauth2',
      label: 'oauth2 (cold token each round)',
      ours: () => pkg.createGmailTransport(oauth2Config(standIns, pool, `ours-${++serial}.apps.googleusercontent.com`) as never) as unknown as Transporter,
      raw: () => nodemailer.createTransport(rawSmtpOptions(standIns, pool, rawOauth2Auth(standIns, `raw-${++serial}.apps.googleusercontent.com`)) as never),
      ...(oauth2Skip ? { skip: oauth2Skip } : {}),
    },
  ];

  const ownRows: string[][] = [];
  const sharedRows: string[][] = [];
  for (const variant of variants) {
    if (variant.skip) {
      log(`overhead ${variant.label}: skipped: ${variant.skip}`);
      notes.push(`${variant.label}: skipped: ${variant.skip}`);
      continue;
    }
    const own = compare(variant.label, await inProcessesOfTheirOwn(ctx, variant, pool), { bold: true });
    ownRows.push(own.row);
    checks.push({ name: `overhead ${variant.label}: wall ratio`, value: own.wall.median, target: WALL_TARGET });
    checks.push({ name: `overhead ${variant.label}: CPU ratio`, value: own.cpu.median, target: CPU_TARGET });
    log(`  own processes: wall ${fmtRatio(own.wall)}; cpu ${fmtRatio(own.cpu)}`);

    const shared = compare(variant.label, await inThisProcess(ctx, variant), { gc: false });
    sharedRows.push(shared.row);
    log(`  one process: wall ${fmtRatio(shared.wall)}; cpu ${fmtRatio(shared.cpu)}`);
  }

  // The noise floor of the method: nodemailer against itself, the same way. A ratio this far
  // from 1.000 says how far any ratio above may be off on this machine.
  const floorLabel = 'app-password, nodemailer ÷ nodemailer (noise floor)';
  const floor = compare(floorLabel, await inProcessesOfTheirOwn(ctx, { ...variants[0]!, label: floorLabel }, pool, { bothRaw: true }));
  ownRows.push(floor.row);
  log(`  noise floor: wall ${fmtRatio(floor.wall)}; cpu ${fmtRatio(floor.cpu)}`);

  const { overheadPairs: pairs, overheadBatches: batches } = ctx.scale;
  const markdown = [
    `${count} messages (about 1.3 kB each) sent at once through a pool of ${pool.maxConnections} connections, \`maxMessages: Infinity\` on both sides, to the TLS stand-in (implicit TLS, EC P-256 certificate). Ratios are ours ÷ nodemailer per pair; targets: wall ≤ ${WALL_TARGET}x, CPU ≤ ${CPU_TARGET}x. CPU is the sending process's user + system time (the server runs in another process).`,
    '',
    `**Each side in processes of its own** (the figures checked against the targets): ${pairs} pairs of processes, one per side, the order flipping every pair. Each process sends ${plural(batches.warmup, 'warmup batch', 'warmup batches')}, then ${plural(batches.measured, 'measured one', 'measured ones')}, and reports their median. No process runs both libraries, as in an application. The last row runs nodemailer on both sides: how far from 1.000 a ratio lands by noise alone. Young-generation GC is the time V8 spent in scavenges per batch (median), ours / nodemailer's.`,
    '',
    table(['route', 'ours wall', 'nodemailer wall', 'wall ratio', 'ours CPU', 'nodemailer CPU', 'CPU ratio', 'young-gen GC'], ownRows),
    '',
    `**Both sides in this process**: ${ctx.scale.rounds} rounds after a warmup round, the order flipping every round. Here both libraries run nodemailer's code in one V8, so each one's objects also shape the inline caches and the GC work the other one meets.`,
    '',
    table(['route', 'ours wall', 'nodemailer wall', 'wall ratio', 'ours CPU', 'nodemailer CPU', 'CPU ratio'], sharedRows),
    ...notes.map((n) => `\n- ${n}`),
  ].join('\n');
  return { title: '1. Overhead against raw nodemailer', markdown, checks };
}

/**
 * Pairs of processes, one per side, the order flipping every pair: the ratio of each pair's
 * per-process medians. Every process warms up before it measures.
 */
async function inProcessesOfTheirOwn(
  ctx: BenchContext,
  variant: Variant,
  pool: PoolShape,
  opts: { bothRaw?: boolean } = {},
): Promise<{ ours: SideSamples; raw: SideSamples }> {
  const { standIns, log } = ctx;
  const { overheadPairs: pairs, overheadBatches: batches, overheadMessages: count } = ctx.scale;
  log(`overhead ${variant.label}, processes of their own: ${pairs} pairs, ${batches.warmup} + ${batches.measured} batches of ${count} messages each`);
  await standIns.reset();
  const sides = { ours: empty(), raw: empty() };
  for (let pair = 0; pair < pairs; pair++) {
    const order: OverheadJob['side'][] = pair % 2 === 0 ? ['ours', 'raw'] : ['raw', 'ours'];
    for (const side of order) {
      const report = await runWorker({
        side: opts.bothRaw ? 'raw' : side,
        route: variant.route,
        distEsm: DIST_ESM,
        smtpPort: standIns.smtpPort,
        cert: standIns.cert,
        tokenUrl: standIns.tokenUrl,
        clientIdPrefix: `${side}-p${pair}`,
        messages: count,
        pool: { maxConnections: pool.maxConnections, maxMessages: Number.isFinite(pool.maxMessages) ? pool.maxMessages : null },
        warmupBatches: batches.warmup,
        measuredBatches: batches.measured,
      });
      sides[side].wallMs.push(median(report.wallMs));
      sides[side].cpuMs.push(median(report.cpuMs));
      sides[side].minorGcMs.push(median(report.minorGcMs));
    }
  }
  const stats = await standIns.stats();
  const expected = count * (batches.warmup + batches.measured) * pairs * 2;
  if (stats.smtpMessages !== expected) throw new Error(`overhead ${variant.label}: the server counted ${stats.smtpMessages} messages, expected ${expected}`);
  return sides;
}

/** One table row: each side's times and the paired ratios (and GC time, when measured). */
function compare(
  label: string,
  sides: { ours: SideSamples; raw: SideSamples },
  opts: { bold?: boolean; gc?: boolean } = {},
): { row: string[]; wall: Spread; cpu: Spread } {
  const { ours, raw } = sides;
  const wall = spread(pairedRatios(ours.wallMs, raw.wallMs));
  const cpu = spread(pairedRatios(ours.cpuMs, raw.cpuMs));
  const ratio = (s: Spread): string => (opts.bold ? `**${fmtRatio(s)}**` : fmtRatio(s));
  const row = [
    label,
    fmtSpread(spread(ours.wallMs), 'ms'),
    fmtSpread(spread(raw.wallMs), 'ms'),
    ratio(wall),
    fmtSpread(spread(ours.cpuMs), 'ms'),
    fmtSpread(spread(raw.cpuMs), 'ms'),
    ratio(cpu),
  ];
  if (opts.gc !== false) row.push(`${Math.round(median(ours.minorGcMs))} / ${Math.round(median(raw.minorGcMs))} ms`);
  return { row, wall, cpu };
}

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

const empty = (): SideSamples => ({ wallMs: [], cpuMs: [], minorGcMs: [] });

/** Forks one worker for one side, hands it the job, and returns its report once it exited. */
export function runWorker(job: OverheadJob & { alternate: NonNullable<OverheadJob['alternate']> }): Promise<AlternateReport>;
export function runWorker(job: OverheadJob): Promise<OverheadReport>;
export function runWorker(job: OverheadJob): Promise<OverheadReport | AlternateReport> {
  const child = fork(WORKER, [], { execArgv: ['--expose-gc', '--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise<OverheadReport | AlternateReport>((resolve, reject) => {
    let report: OverheadReport | AlternateReport | undefined;
    child.once('message', (message) => {
      report = message as OverheadReport | AlternateReport;
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (report && code === 0) resolve(report);
      else reject(new Error(`overhead worker (${job.side}, ${job.route}) exited with ${signal ?? code} ${report ? 'after' : 'before'} its report`));
    });
    child.send(job);
  });
}

/** Both sides in this process, in interleaved rounds. */
async function inThisProcess(ctx: BenchContext, variant: Variant): Promise<{ ours: SideSamples; raw: SideSamples }> {
  const { standIns, log } = ctx;
  const count = ctx.scale.overheadMessages;
  log(`overhead ${variant.label}, one process: ${count} messages x ${ctx.scale.rounds} rounds per side`);
  await standIns.reset();
  const contender = (name: string, make: () => Transporter): Contender => ({
    name,
    run: async () => {
      const mailer = make();
      try {
        await sendAll(mailer, count);
      } finally {
        mailer.close();
      }
    },
  });
  const [ours, raw] = await interleavedRounds([contender('gmail-transport', variant.ours), contender('nodemailer', variant.raw)], {
    rounds: ctx.scale.rounds,
    warmupRounds: 1,
    label: variant.label,
  });
  const stats = await standIns.stats();
  const expected = count * (ctx.scale.rounds + 1) * 2;
  if (stats.smtpMessages !== expected) throw new Error(`overhead ${variant.label}: the server counted ${stats.smtpMessages} messages, expected ${expected}`);
  return { ours: { ...ours!, minorGcMs: [] }, raw: { ...raw!, minorGcMs: [] } };
}
