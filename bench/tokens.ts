/**
 * 2. Token requests, counted at the token stand-in: concurrent cold sends, processes sharing a
 * Redis store, and steady sending across many token lifetimes. nodemailer's built-in XOAuth2
 * (refreshToken + accessUrl pointed at the same stand-in) is measured beside ours.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import nodemailer from 'nodemailer';
import type { Transporter } from 'nodemailer';
import { oauth2Config, rawOauth2Auth, rawSmtpOptions, sendAll, unsupportedReason, message } from './helpers/configs.js';
import { interleavedRounds, type Contender } from './helpers/interleave.js';
import { DIST_ESM } from './helpers/package.js';
import { redisMissing, startRedis } from './helpers/redis.js';
import { fmt, spread, table } from './helpers/stats.js';
import type { BenchContext, SectionResult } from './helpers/context.js';
import type { WorkerJob } from './workers/token-worker.js';

const WORKER = fileURLToPath(new URL('./workers/token-worker.ts', import.meta.url));

/** One scaled "hour": token lifetime, run length and send interval, divided by SCALE. */
const SCALE = 100;
const TOKEN_LIFETIME_S = 300;
const HOUR_S = 3_600;
/** Our eager refresh, scaled like the rest (30 s before expiry in real time). */
const EAGER_REFRESH_REAL_MS = 30_000;
const SEND_EVERY_REAL_MS = 10_000;

function countOf(values: number[]): string {
  const s = spread(values);
  return s.min === s.max ? fmt(s.median, 0) : `${fmt(s.median, 0)} (min–max ${fmt(s.min, 0)}–${fmt(s.max, 0)})`;
}

export async function benchTokens(ctx: BenchContext): Promise<SectionResult> {
  const { pkg, standIns, log } = ctx;
  const skip = unsupportedReason(pkg, oauth2Config(standIns, undefined, 'probe.apps.googleusercontent.com'));
  if (skip) {
    log(`tokens: skipped: ${skip}`);
    return { title: '2. Token requests', markdown: `skipped: ${skip}`, checks: [] };
  }
  const rows: string[][] = [];
  const checks: SectionResult['checks'] = [];
  const notes: string[] = [];
  const rounds = Math.min(3, ctx.scale.rounds);
  let serial = 0;
  const clientId = (side: string): string => `${side}-${process.pid}-${++serial}.apps.googleusercontent.com`;
  const requestsFor = async (id: string): Promise<number> => (await standIns.stats()).tokenRequestsByClient[id] ?? 0;

  // (a) N concurrent sends on a cold cache, pooled and not.
  const n = ctx.scale.concurrentColdSends;
  for (const pool of [{ maxConnections: 5, maxMessages: 100 }, undefined]) {
    const label = `${n} concurrent cold sends, ${pool ? 'pool of 5' : 'no pool (a connection per message)'}`;
    log(`tokens: ${label}, ${rounds} rounds`);
    const contender = (name: string, make: (id: string) => Transporter): Contender => ({
      name,
      run: async () => {
        const id = clientId(name);
        const mailer = make(id);
        try {
          await sendAll(mailer, n);
        } finally {
          mailer.close();
        }
        return { extra: { requests: await requestsFor(id) } };
      },
    });
    const [ours, raw] = await interleavedRounds(
      [
        contender('ours', (id) => pkg.createGmailTransport(oauth2Config(standIns, pool, id) as never) as unknown as Transporter),
        contender('raw', (id) => nodemailer.createTransport(rawSmtpOptions(standIns, pool, rawOauth2Auth(standIns, id)) as never)),
      ],
      { rounds, warmupRounds: 0, label },
    );
    rows.push([label, countOf(ours!.extra.requests!), countOf(raw!.extra.requests!), '1']);
    checks.push({ name: `token requests, ${label}`, value: spread(ours!.extra.requests!).max, target: 1 });
  }

  // (b) Processes sharing one Redis-backed store.
  const missing = redisMissing();
  if (missing) {
    notes.push(`${ctx.scale.redisWorkers} processes sharing a Redis store: skipped: ${missing}`);
    log(`tokens: redis: skipped: ${missing}`);
  } else {
    const redis = await startRedis();
    try {
      const label = `${ctx.scale.redisWorkers} processes sharing a Redis store, 50 messages each, pool of 5`;
      log(`tokens: ${label}, ${rounds} rounds`);
      const contender = (side: 'ours' | 'raw'): Contender => ({
        name: side,
        run: async () => {
          const id = clientId(`${side}-redis`);
          const job = {
            side,
            distEsm: DIST_ESM,
            redisUrl: redis.url,
            smtpPort: standIns.smtpPort,
            cert: standIns.cert,
            tokenUrl: standIns.tokenUrl,
            clientId: id,
            messages: 50,
          };
          await runWorkers(job, ctx.scale.redisWorkers);
          return { extra: { requests: await requestsFor(id) } };
        },
      });
      const [ours, raw] = await interleavedRounds([contender('ours'), contender('raw')], { rounds, warmupRounds: 0, label });
      rows.push([label, countOf(ours!.extra.requests!), countOf(raw!.extra.requests!), '1']);
      checks.push({ name: `token requests, ${ctx.scale.redisWorkers} processes sharing Redis`, value: spread(ours!.extra.requests!).max, target: 1 });
    } finally {
      await redis.stop();
    }
  }

  // (c) A scaled hour of steady sending with 5-minute tokens, ours and nodemailer side by side.
  const hour = await simulatedHour(ctx, clientId);
  rows.push(...hour.rows);
  checks.push(...hour.checks);
  notes.push(...hour.notes);

  const markdown = [
    'Requests counted at the token stand-in (a local HTTP server playing `https://oauth2.googleapis.com/token`), per credential; every run starts on a cold cache (a fresh client id). Median over the rounds, min–max when they differ.',
    '',
    table(['scenario', 'gmail-transport', 'nodemailer XOAuth2', 'target (ours)'], rows),
    ...notes.map((line) => `\n- ${line}`),
  ].join('\n');
  return { title: '2. Token requests', markdown, checks };
}

/** Starts the workers, lets them go at the same moment, waits for all of them. */
async function runWorkers(job: Omit<WorkerJob, 'side'> & { side: 'ours' | 'raw' }, count: number): Promise<void> {
  const children: ChildProcess[] = [];
  try {
    const ready: Promise<void>[] = [];
    const done: Promise<{ sent: number; failed: number }>[] = [];
    for (let i = 0; i < count; i++) {
      const child = fork(WORKER, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      children.push(child);
      const messages: unknown[] = [];
      const waiters: ((m: unknown) => void)[] = [];
      child.on('message', (m) => (waiters.length > 0 ? waiters.shift()!(m) : messages.push(m)));
      const next = (): Promise<unknown> =>
        new Promise((resolve, reject) => {
          if (messages.length > 0) return resolve(messages.shift());
          waiters.push(resolve);
          child.once('exit', (code) => reject(new Error(`token worker exited (code ${code})`)));
        });
      child.send(job);
      ready.push(next().then(() => undefined));
      done.push(ready[i]!.then(() => next() as Promise<{ sent: number; failed: number }>));
    }
    await withDeadline(Promise.all(ready), 30_000, 'token workers did not get ready');
    for (const child of children) child.send({ go: true });
    const results = await withDeadline(Promise.all(done), 60_000, 'token workers did not finish');
    const failed = results.reduce((sum, r) => sum + r.failed, 0);
    if (failed > 0) throw new Error(`${failed} sends failed in the token workers (${job.side})`);
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  }
}

function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(what)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/**
 * An hour compressed SCALE times: the stand-in hands out tokens that live 5 minutes / SCALE,
 * and several transports send a message every 10 s / SCALE each, all at the same time. SMTP
 * asks for a token only when a connection logs in, so the transports without a pool (a login
 * per message) are the ones that show the refresh policy; pooled ones log in less often.
 * It keeps real time (short tokens) rather than an injected clock: nodemailer's own XOAuth2,
 * measured beside ours, reads the system clock.
 */
async function simulatedHour(
  ctx: BenchContext,
  clientId: (side: string) => string,
): Promise<{ rows: string[][]; checks: SectionResult['checks']; notes: string[] }> {
  const { pkg, standIns, log } = ctx;
  const lifetimeS = TOKEN_LIFETIME_S / SCALE;
  const durationMs = (HOUR_S * 1000) / SCALE;
  const everyMs = SEND_EVERY_REAL_MS / SCALE;
  const eagerMs = EAGER_REFRESH_REAL_MS / SCALE;
  const pool = { maxConnections: 5, maxMessages: 100 };
  const ours = (id: string, withPool: boolean, extra: Record<string, unknown>): Transporter =>
    pkg.createGmailTransport(oauth2Config(standIns, withPool ? pool : undefined, id, extra) as never) as unknown as Transporter;
  const raw = (id: string, withPool: boolean): Transporter =>
    nodemailer.createTransport(rawSmtpOptions(standIns, withPool ? pool : undefined, rawOauth2Auth(standIns, id)) as never);
  const senders = [
    { key: 'ours-unpooled', id: clientId('hour-ours-unpooled'), make: (id: string) => ours(id, false, { eagerRefreshMs: eagerMs }) },
    { key: 'raw-unpooled', id: clientId('hour-raw-unpooled'), make: (id: string) => raw(id, false) },
    { key: 'ours-pooled', id: clientId('hour-ours-pooled'), make: (id: string) => ours(id, true, { eagerRefreshMs: eagerMs }) },
    { key: 'raw-pooled', id: clientId('hour-raw-pooled'), make: (id: string) => raw(id, true) },
    { key: 'ours-unpooled-default', id: clientId('hour-ours-default'), make: (id: string) => ours(id, false, {}) },
  ];
  log(`tokens: simulated hour (${durationMs / 1000} s, tokens of ${lifetimeS} s, a message every ${everyMs} ms per transport)`);
  const mailers = senders.map((s) => s.make(s.id));
  await standIns.configure({ tokenExpiresInS: lifetimeS });
  const failures: unknown[] = [];
  const sends: Promise<unknown>[] = [];
  const started = performance.now();
  const ticks = Math.floor(durationMs / everyMs);
  try {
    for (let tick = 0; tick < ticks; tick++) {
      for (const mailer of mailers) sends.push(mailer.sendMail(message(tick)).catch((err: unknown) => failures.push(err)));
      const wait = started + (tick + 1) * everyMs - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    await Promise.all(sends);
  } finally {
    await standIns.configure({ tokenExpiresInS: 3600 });
    for (const mailer of mailers) mailer.close();
  }
  if (failures.length > 0) throw new Error(`simulated hour: ${failures.length} sends failed, first: ${String((failures[0] as Error)?.message)}`);
  const elapsedMs = performance.now() - started;
  const stats = await standIns.stats();
  const count = (key: string): number => stats.tokenRequestsByClient[senders.find((s) => s.key === key)!.id] ?? 0;
  const windows = elapsedMs / (lifetimeS * 1000);
  // One request per token's useful life: the eager refresh ends each window `eagerMs` early.
  const allowed = Math.ceil(elapsedMs / (lifetimeS * 1000 - eagerMs));
  const label = (what: string): string => `a simulated hour of steady sending, 5-minute tokens, ${what}`;
  return {
    rows: [
      [label('no pool (a login per message)'), String(count('ours-unpooled')), String(count('raw-unpooled')), `≤ ${allowed} (${fmt(windows, 1)} windows)`],
      [label('pool of 5, maxMessages 100'), String(count('ours-pooled')), String(count('raw-pooled')), `≤ ${allowed}`],
      [
        label("no pool, ours with the default eagerRefreshMs (5 min, capped at half a token's life)"),
        String(count('ours-unpooled-default')),
        '',
        `(${fmt(windows, 1)} windows)`,
      ],
    ],
    checks: [
      { name: 'token requests per 5-minute window, simulated hour, no pool', value: count('ours-unpooled') / allowed, target: 1 },
      { name: 'token requests per 5-minute window, simulated hour, pool of 5', value: count('ours-pooled') / allowed, target: 1 },
    ],
    notes: [
      `The hour is compressed ${SCALE}x: tokens live ${lifetimeS} s, the run lasted ${fmt(elapsedMs / 1000, 1)} s, each transport sent a message every ${everyMs} ms (${ticks} each); ours with \`eagerRefreshMs: ${eagerMs}\` (30 s real) unless said otherwise. nodemailer's XOAuth2 refreshes only once a token has expired (no margin), so a login may go out with a token seconds from expiry.`,
    ],
  };
}
