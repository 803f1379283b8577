/**
 * 4. Gmail API vs SMTP: the same messages through our gmail-api strategy (HTTP stand-in of
 * users.messages.send) and our oauth2 strategy (the TLS SMTP stand-in), in interleaved rounds.
 */
import type { Transporter } from 'nodemailer';
import { gmailApiConfig, oauth2Config, sendAll, unsupportedReason } from './helpers/configs.js';
import { interleavedRounds, type Contender } from './helpers/interleave.js';
import { fmtRatio, fmtSpread, pairedRatios, spread, table } from './helpers/stats.js';
import type { BenchContext, SectionResult } from './helpers/context.js';

const PARALLEL = 5;

export async function benchGmailApi(ctx: BenchContext): Promise<SectionResult> {
  const { pkg, standIns, log } = ctx;
  const title = '4. Gmail API vs SMTP';
  const count = ctx.scale.gmailApiMessages;
  // Both sides keep their credential across rounds: the token is fetched in the warmup round,
  // so the rounds compare delivery only.
  const api = gmailApiConfig(standIns, 'bench-gmail-api.apps.googleusercontent.com', { maxConcurrent: PARALLEL });
  const smtp = oauth2Config(standIns, { maxConnections: PARALLEL, maxMessages: Number.POSITIVE_INFINITY }, 'bench-gmail-smtp.apps.googleusercontent.com');
  const skip = unsupportedReason(pkg, api) ?? unsupportedReason(pkg, smtp);
  if (skip) {
    log(`gmail-api: skipped: ${skip}`);
    return { title, markdown: `skipped: ${skip}`, checks: [] };
  }
  log(`gmail-api: ${count} messages x ${ctx.scale.rounds} rounds per side`);
  await standIns.reset();
  const contender = (name: string, config: Record<string, unknown>): Contender => ({
    name,
    run: async () => {
      const mailer = pkg.createGmailTransport(config as never) as unknown as Transporter;
      try {
        await sendAll(mailer, count);
      } finally {
        mailer.close();
      }
    },
  });
  const [viaApi, viaSmtp] = await interleavedRounds([contender('gmail-api', api), contender('oauth2 SMTP', smtp)], {
    rounds: ctx.scale.rounds,
    warmupRounds: 1,
    label: title,
  });
  const stats = await standIns.stats();
  const expected = count * (ctx.scale.rounds + 1);
  if (stats.gmailApiMessages !== expected || stats.smtpMessages !== expected) {
    throw new Error(`gmail-api: the stand-ins counted ${stats.gmailApiMessages} API and ${stats.smtpMessages} SMTP messages, expected ${expected} each`);
  }
  const wall = spread(pairedRatios(viaApi!.wallMs, viaSmtp!.wallMs));
  const cpu = spread(pairedRatios(viaApi!.cpuMs, viaSmtp!.cpuMs));
  const markdown = [
    `${count} messages sent at once. Gmail API: \`maxConcurrent: ${PARALLEL}\`, plain HTTP/1.1 keep-alive to a loopback stand-in (no TLS: the strategy accepts http only for loopback). SMTP: oauth2 strategy, pool of ${PARALLEL}, implicit TLS. Ratios are API ÷ SMTP per round pair (no target: this tells which route costs more, not a pass/fail).`,
    '',
    table(
      ['', 'Gmail API', 'SMTP', 'ratio (API ÷ SMTP)'],
      [
        ['wall', fmtSpread(spread(viaApi!.wallMs), 'ms'), fmtSpread(spread(viaSmtp!.wallMs), 'ms'), fmtRatio(wall)],
        ['CPU (this process)', fmtSpread(spread(viaApi!.cpuMs), 'ms'), fmtSpread(spread(viaSmtp!.cpuMs), 'ms'), fmtRatio(cpu)],
      ],
    ),
  ].join('\n');
  return { title, markdown, checks: [] };
}
