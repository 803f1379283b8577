/**
 * One process of the separate-process overhead figure: sends batches through one side only
 * (ours or raw nodemailer), so that neither side's code shares a JIT, an inline cache or a
 * heap with the other's. Warmup batches first, then measured ones; reports their wall and CPU
 * times and exits.
 */
import { PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import nodemailer, { type Transporter } from 'nodemailer';
import { appPasswordConfig, oauth2Config, rawOauth2Auth, rawSmtpOptions, sendAll, APP_PASSWORD, USER, type PoolShape } from '../helpers/configs.js';
import { interleavedRounds } from '../helpers/interleave.js';
import type { Package } from '../helpers/package.js';
import type { StandIns } from '../helpers/stand-ins.js';

export interface OverheadJob {
  side: 'ours' | 'raw';
  route: 'app-password' | 'oauth2';
  distEsm: string;
  smtpPort: number;
  cert: string;
  tokenUrl: string;
  /** Prefix of this process's client ids: every batch starts on a cold token cache. */
  clientIdPrefix: string;
  messages: number;
  /** `maxMessages: null` is Infinity (the IPC channel carries JSON). */
  pool: { maxConnections: number; maxMessages: number | null };
  warmupBatches: number;
  measuredBatches: number;
  /** Ours only: write a send log into this folder (the send-log section). */
  sendLogDir?: string;
  /**
   * Ours only (the send-log section): two transports in this one process, batches alternating
   * between them, `without` a log and `with` one into `withLogDir` (without one too when it is
   * absent: the noise floor). Both run this library's code, so sharing a JIT and a heap is
   * what an application with the option on or off does.
   */
  alternate?: { withLogDir?: string };
}

/** What a worker with `alternate` reports: each transport's batches, in round order. */
export interface AlternateReport {
  without: OverheadReport;
  with: OverheadReport;
}

export interface OverheadReport {
  wallMs: number[];
  cpuMs: number[];
  /** Time in young-generation GCs (scavenges) during each measured batch. */
  minorGcMs: number[];
}

const WATCHDOG_MS = 5 * 60_000;
setTimeout(() => {
  process.stderr.write('overhead worker: no result within 5 min\n');
  process.exit(3);
}, WATCHDOG_MS).unref();

const job = await new Promise<OverheadJob>((resolve) => process.once('message', (m) => resolve(m as OverheadJob)));
// Only what the configs read; the worker never asks the stand-ins anything.
const standIns = { smtpPort: job.smtpPort, cert: job.cert, tokenUrl: job.tokenUrl } as StandIns;
const pool: PoolShape = { maxConnections: job.pool.maxConnections, maxMessages: job.pool.maxMessages ?? Number.POSITIVE_INFINITY };
const pkg = job.side === 'ours' ? ((await import(pathToFileURL(job.distEsm).href)) as Package) : undefined;

// GC pauses, as V8 reports them to perf_hooks: the part of the CPU time that our allocations
// (and how long they live) add, which a profile of our own functions does not show.
let minorGcMs = 0;
const gcObserver = new PerformanceObserver((list) => {
  for (const entry of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[]) {
    if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) minorGcMs += entry.duration;
  }
});
gcObserver.observe({ entryTypes: ['gc'] });

let serial = 0;
function make(sendLogDir = job.sendLogDir): Transporter {
  const clientId = `${job.clientIdPrefix}-${++serial}.apps.googleusercontent.com`;
  if (pkg) {
    const config = job.route === 'app-password' ? appPasswordConfig(standIns, pool) : oauth2Config(standIns, pool, clientId);
    return pkg.createGmailTransport({ ...config, ...(sendLogDir ? { sendLog: { dir: sendLogDir } } : {}) } as never) as unknown as Transporter;
  }
  const auth = job.route === 'app-password' ? { user: USER, pass: APP_PASSWORD.replace(/ /g, '') } : rawOauth2Auth(standIns, clientId);
  return nodemailer.createTransport(rawSmtpOptions(standIns, pool, auth) as never);
}

/** One batch through a fresh transport, with its young-generation GC time. */
async function batch(sendLogDir?: string): Promise<{ extra: { minorGcMs: number } }> {
  // The forced GC before each batch is reported asynchronously: count it out first.
  await new Promise((resolve) => setImmediate(resolve));
  const before = minorGcMs;
  const mailer = make(sendLogDir);
  try {
    await sendAll(mailer, job.messages);
  } finally {
    mailer.close();
  }
  // GC entries are delivered asynchronously: let the last ones of this batch arrive.
  await new Promise((resolve) => setImmediate(resolve));
  return { extra: { minorGcMs: minorGcMs - before } };
}

const alternate = job.alternate;
const contenders = alternate
  ? [
      { name: 'without', run: () => batch(undefined) },
      { name: 'with', run: () => batch(alternate.withLogDir) },
    ]
  : [{ name: job.side, run: () => batch() }];
const samples = await interleavedRounds(contenders, { rounds: job.measuredBatches, warmupRounds: job.warmupBatches, label: `overhead worker ${job.side}` });
gcObserver.disconnect();
const toReport = (s: (typeof samples)[number]): OverheadReport => ({ wallMs: s.wallMs, cpuMs: s.cpuMs, minorGcMs: s.extra.minorGcMs ?? [] });
const report: OverheadReport | AlternateReport = alternate ? { without: toReport(samples[0]!), with: toReport(samples[1]!) } : toReport(samples[0]!);
process.send?.(report, () => process.disconnect());
