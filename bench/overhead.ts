/**
 * 1. Overhead: N messages through createGmailTransport, pooled, vs nodemailer with the same
 * pool options, against the same TLS SMTP stand-in, in interleaved rounds.
 */
import nodemailer from 'nodemailer';
import type { Transporter } from 'nodemailer';
import { appPasswordConfig, oauth2Config, rawOauth2Auth, rawSmtpOptions, sendAll, unsupportedReason, APP_PASSWORD, USER, type PoolShape } from './helpers/configs.js';
import { interleavedRounds, type Contender } from './helpers/interleave.js';
import { fmtRatio, fmtSpread, pairedRatios, spread, table } from './helpers/stats.js';
import type { BenchContext, SectionResult } from './helpers/context.js';

const WALL_TARGET = 1.03;
const CPU_TARGET = 1.05;

export async function benchOverhead(ctx: BenchContext): Promise<SectionResult> {
  const { pkg, standIns, log } = ctx;
  const count = ctx.scale.overheadMessages;
  const pool: PoolShape = { maxConnections: 5, maxMessages: Number.POSITIVE_INFINITY };
  const rows: string[][] = [];
  const notes: string[] = [];
  const checks: SectionResult['checks'] = [];

  const variants: { label: string; ours: () => Transporter; raw: () => Transporter; skip?: string }[] = [];
  variants.push({
    label: 'app-password',
    ours: () => pkg.createGmailTransport(appPasswordConfig(standIns, pool) as never) as unknown as Transporter,
    raw: () => nodemailer.createTransport(rawSmtpOptions(standIns, pool, { user: USER, pass: APP_PASSWORD.replace(/ /g, '') }) as never),
  });
  // oauth2: every round starts cold on both sides (a fresh client id is a fresh cache key), so
  // each round pays its token requests: one for us, one per pooled connection for nodemailer.
  let serial = 0;
  const oauth2Skip = unsupportedReason(pkg, oauth2Config(standIns, pool, 'probe.apps.googleusercontent.com'));
  variants.push({
    label: 'oauth2 (cold token each round)',
    ours: () => pkg.createGmailTransport(oauth2Config(standIns, pool, `ours-${++serial}.apps.googleusercontent.com`) as never) as unknown as Transporter,
    raw: () => nodemailer.createTransport(rawSmtpOptions(standIns, pool, rawOauth2Auth(standIns, `raw-${++serial}.apps.googleusercontent.com`)) as never),
    ...(oauth2Skip ? { skip: oauth2Skip } : {}),
  });

  for (const variant of variants) {
    if (variant.skip) {
      log(`overhead ${variant.label}: skipped: ${variant.skip}`);
      notes.push(`${variant.label}: skipped: ${variant.skip}`);
      continue;
    }
    log(`overhead ${variant.label}: ${count} messages x ${ctx.scale.rounds} rounds per side`);
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
    const wall = spread(pairedRatios(ours!.wallMs, raw!.wallMs));
    const cpu = spread(pairedRatios(ours!.cpuMs, raw!.cpuMs));
    rows.push([
      variant.label,
      fmtSpread(spread(ours!.wallMs), 'ms'),
      fmtSpread(spread(raw!.wallMs), 'ms'),
      `**${fmtRatio(wall)}**`,
      fmtSpread(spread(ours!.cpuMs), 'ms'),
      fmtSpread(spread(raw!.cpuMs), 'ms'),
      `**${fmtRatio(cpu)}**`,
    ]);
    checks.push({ name: `overhead ${variant.label}: wall ratio`, value: wall.median, target: WALL_TARGET });
    checks.push({ name: `overhead ${variant.label}: CPU ratio`, value: cpu.median, target: CPU_TARGET });
    log(`  wall ${fmtRatio(wall)}; cpu ${fmtRatio(cpu)}`);
  }

  const markdown = [
    `${count} messages (about 1.3 kB each) sent at once through a pool of ${pool.maxConnections} connections, \`maxMessages: Infinity\` on both sides, to the TLS stand-in (implicit TLS, EC P-256 certificate). Ratios are ours ÷ nodemailer per round pair; targets: wall ≤ ${WALL_TARGET}x, CPU ≤ ${CPU_TARGET}x. CPU is this process's user + system time (the server runs in another process).`,
    '',
    table(['route', 'ours wall', 'nodemailer wall', 'wall ratio', 'ours CPU', 'nodemailer CPU', 'CPU ratio'], rows),
    ...notes.map((n) => `\n- ${n}`),
  ].join('\n');
  return { title: '1. Overhead against raw nodemailer', markdown, checks };
}
