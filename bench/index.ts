/**
 * `npm run bench`: gmail-transport against raw nodemailer, every figure a ratio of rounds run
 * side by side. Talks to 127.0.0.1 only, bounds every loop and exits by itself.
 *
 *   npm run bench                      all sections, print the results
 *   npm run bench -- --write           ... and write them into docs/BENCHMARKS.md (a full run only)
 *   npm run bench -- --quick           fewer rounds and messages (a smoke run)
 *   npm run bench -- --only=overhead,import
 *   npm run bench -- --only=bridge-memory
 *   npm run bench -- --only=send-log
 *   npm run bench -- --only=budget
 */
import { execSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, freemem, totalmem, availableParallelism } from 'node:os';
import { join } from 'node:path';
import { benchOverhead } from './overhead.js';
import { benchTokens } from './tokens.js';
import { benchImportCost } from './import-cost.js';
import { benchGmailApi } from './gmail-api.js';
import { benchBridgeMemory } from './bridge-memory.js';
import { benchSendLog } from './send-log.js';
import { benchBudget } from './budget.js';
import { ensureBuilt, loadPackage, ROOT } from './helpers/package.js';
import { startStandIns } from './helpers/stand-ins.js';
import { fmt } from './helpers/stats.js';
import type { BenchContext, Check, Scale, SectionResult } from './helpers/context.js';

const SECTIONS: Record<string, (ctx: BenchContext) => Promise<SectionResult>> = {
  overhead: benchOverhead,
  tokens: benchTokens,
  import: benchImportCost,
  'gmail-api': benchGmailApi,
  'bridge-memory': benchBridgeMemory,
  'send-log': benchSendLog,
  budget: benchBudget,
};

const FULL: Scale = {
  rounds: 16,
  overheadMessages: 2_000,
  overheadPairs: 24,
  overheadBatches: { warmup: 2, measured: 3 },
  concurrentColdSends: 1_000,
  redisWorkers: 4,
  importRounds: 12,
  gmailApiMessages: 1_000,
  bridgeMemoryRounds: 3,
  alternatingProcesses: 6,
  alternatingRounds: 8,
  sendLogRecords: 100_000,
};
const QUICK: Scale = {
  rounds: 3,
  overheadMessages: 300,
  overheadPairs: 2,
  overheadBatches: { warmup: 1, measured: 1 },
  concurrentColdSends: 200,
  redisWorkers: 4,
  importRounds: 4,
  gmailApiMessages: 200,
  bridgeMemoryRounds: 1,
  alternatingProcesses: 1,
  alternatingRounds: 2,
  sendLogRecords: 100_000,
};
/** A hard ceiling: whatever happens, the process ends. */
const DEADLINE_MS = 60 * 60_000;

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const write = args.includes('--write');
const only = args
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
const log = (line: string): void => void process.stderr.write(`${line}\n`);
// --write replaces the whole results block: a partial or smoke run would drop the figures of
// every other section, or replace them with a smoke run's.
if (write && (only || quick)) {
  log('--write needs a full run: it rewrites every section of the results in docs/BENCHMARKS.md; drop --only and --quick');
  process.exit(2);
}

function machine(): string {
  const gib = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(1)} GiB`;
  let commit = 'unknown';
  try {
    commit = execSync('git rev-parse --short HEAD', { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    // Not a git checkout (a tarball): the figure stands without it.
  }
  return [
    `- Date: ${new Date().toISOString()}`,
    `- CPU: ${cpus()[0]?.model ?? 'unknown'}, ${availableParallelism()} logical cores (nproc)`,
    `- Memory: ${gib(totalmem())} total, ${gib(freemem())} free at start`,
    `- Node.js ${process.version} (${process.platform}-${process.arch}); commit ${commit}${quick ? '; **--quick run**' : ''}`,
  ].join('\n');
}

function verdict(check: Check): string {
  return `| ${check.name} | ${fmt(check.value, 3)} | ≤ ${fmt(check.target, 2)} | ${check.value <= check.target ? 'met' : '**missed**'} |`;
}

async function main(): Promise<number> {
  const deadline = setTimeout(() => {
    log(`bench: still running after ${DEADLINE_MS / 60_000} min, giving up`);
    process.exit(2);
  }, DEADLINE_MS);
  deadline.unref();

  ensureBuilt(log);
  const pkg = await loadPackage();
  const standIns = await startStandIns();
  const scale = quick ? QUICK : FULL;
  const ctx: BenchContext = { pkg, standIns, scale, log };
  const results: SectionResult[] = [];
  let failed = 0;
  try {
    for (const [name, section] of Object.entries(SECTIONS)) {
      if (only && !only.includes(name)) continue;
      log(`== ${name}`);
      try {
        results.push(await section(ctx));
      } catch (err) {
        failed++;
        log(`${name} failed: ${(err as Error).stack ?? String(err)}`);
        results.push({ title: name, markdown: `failed: ${(err as Error).message}`, checks: [] });
      }
    }
  } finally {
    await standIns.close();
  }

  const checks = results.flatMap((r) => r.checks);
  const report = [
    '### Machine',
    '',
    machine(),
    '',
    '### Targets',
    '',
    '| figure | median | target | |',
    '| --- | --- | --- | --- |',
    ...checks.map(verdict),
    '',
    ...results.flatMap((r) => [`### ${r.title}`, '', r.markdown, '']),
  ].join('\n');
  process.stdout.write(`${report}\n`);
  if (write) writeResults(report);
  return failed;
}

const START = '<!-- bench:results:start -->';
const END = '<!-- bench:results:end -->';

/** Replaces the generated block of docs/BENCHMARKS.md, leaving the prose around it alone. */
function writeResults(report: string): void {
  const path = join(ROOT, 'docs', 'BENCHMARKS.md');
  const doc = readFileSync(path, 'utf8');
  const start = doc.indexOf(START);
  const end = doc.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${path} has no ${START} … ${END} block`);
  writeFileSync(path, `${doc.slice(0, start + START.length)}\n${report}\n${doc.slice(end)}`);
  log(`results written to ${path}`);
}

main().then(
  (failed) => process.exit(failed > 0 ? 1 : 0),
  (err: unknown) => {
    log(`bench failed: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
