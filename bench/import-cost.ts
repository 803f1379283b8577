/**
 * 3. Import cost: time and heap to load the built package (ESM import and CJS require) and
 * create a transport, against loading nodemailer alone, each in a fresh Node process.
 */
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { DIST_CJS, DIST_ESM, ROOT } from './helpers/package.js';
import { interleavedRounds, type Contender } from './helpers/interleave.js';
import { fmt, fmtRatio, pairedRatios, spread, table } from './helpers/stats.js';
import type { BenchContext, SectionResult } from './helpers/context.js';

const TARGET = 1.2;
const CHILD_TIMEOUT_MS = 30_000;

interface Probe {
  name: string;
  module: 'esm' | 'cjs';
  /** Loads what is measured; `load(spec)` is `import()` or `require()`. */
  body: string;
}

const APP_PASSWORD = `{ strategy: 'app-password', user: 'bench@gmail.com', appPassword: 'abcd efgh ijkl mnop' }`;
const OAUTH2 = `{ strategy: 'oauth2', user: 'bench@gmail.com', clientId: 'bench.apps.googleusercontent.com', clientSecret: 'FAKE-SECRET-b3nc', refreshToken: 'FAKE-REFRESH-b3nc' }`;

function probes(): Probe[] {
  const esm = JSON.stringify(pathToFileURL(DIST_ESM).href);
  const cjs = JSON.stringify(DIST_CJS);
  return [
    { name: 'esm: nodemailer', module: 'esm', body: `await import('nodemailer');` },
    { name: 'esm: gmail-transport + app-password transport', module: 'esm', body: `const m = await import(${esm}); m.createGmailTransport(${APP_PASSWORD});` },
    { name: 'cjs: nodemailer', module: 'cjs', body: `require('nodemailer');` },
    { name: 'cjs: gmail-transport + app-password transport', module: 'cjs', body: `require(${cjs}).createGmailTransport(${APP_PASSWORD});` },
    { name: 'esm: nodemailer + google-auth-library', module: 'esm', body: `await import('nodemailer'); await import('google-auth-library');` },
    // google-auth-library is loaded lazily, at the first token; the second part loads it as
    // that first token would (with import(), in both builds), so both sides end with the same
    // code in memory.
    { name: 'esm: gmail-transport + oauth2 transport', module: 'esm', body: `const m = await import(${esm}); m.createGmailTransport(${OAUTH2});` },
    {
      name: 'esm: gmail-transport + oauth2 transport + google-auth-library',
      module: 'esm',
      body: `const m = await import(${esm}); m.createGmailTransport(${OAUTH2}); await import('google-auth-library');`,
    },
    { name: 'cjs: nodemailer + google-auth-library', module: 'cjs', body: `require('nodemailer'); require('google-auth-library');` },
    {
      name: 'cjs: gmail-transport + oauth2 transport + google-auth-library',
      module: 'cjs',
      body: `require(${cjs}).createGmailTransport(${OAUTH2}); await import('google-auth-library');`,
    },
  ];
}

/**
 * The child measures itself from just before the first import to just after the transport
 * exists (Node's own start-up is the same for everyone and left out); heap is `heapUsed` after
 * a forced GC, minus the same before.
 */
function childSource(probe: Probe): string {
  const measured = `
    globalThis.gc(); const heap0 = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    ${probe.body}
    const ms = performance.now() - t0;
    globalThis.gc(); const heap = process.memoryUsage().heapUsed - heap0;
    process.stdout.write(JSON.stringify({ ms, heap }));`;
  return probe.module === 'esm' ? measured : `(async () => { ${measured} })().catch((e) => { console.error(e); process.exit(1); });`;
}

function runChild(probe: Probe): Promise<{ ms: number; heap: number }> {
  return new Promise((resolve, reject) => {
    const args = ['--expose-gc', ...(probe.module === 'esm' ? ['--input-type=module'] : ['--input-type=commonjs']), '-e', childSource(probe)];
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`${probe.name}: child exited ${code}: ${err.trim().split('\n').slice(0, 3).join(' | ')}`));
      else resolve(JSON.parse(out) as { ms: number; heap: number });
    });
  });
}

export async function benchImportCost(ctx: BenchContext): Promise<SectionResult> {
  const all = probes();
  const byName = new Map(all.map((p) => [p.name, p]));
  const rows: string[][] = [];
  const checks: SectionResult['checks'] = [];
  const notes: string[] = [];
  const pairs: [string, string, boolean][] = [
    ['esm: gmail-transport + app-password transport', 'esm: nodemailer', true],
    ['cjs: gmail-transport + app-password transport', 'cjs: nodemailer', true],
    ['esm: gmail-transport + oauth2 transport', 'esm: nodemailer + google-auth-library', false],
    ['esm: gmail-transport + oauth2 transport + google-auth-library', 'esm: nodemailer + google-auth-library', false],
    ['cjs: gmail-transport + oauth2 transport + google-auth-library', 'cjs: nodemailer + google-auth-library', false],
  ];
  for (const [oursName, theirsName, targeted] of pairs) {
    const ours = byName.get(oursName)!;
    const theirs = byName.get(theirsName)!;
    try {
      await runChild(ours);
    } catch (err) {
      const reason = (err as Error).message;
      ctx.log(`import ${oursName}: skipped: ${reason}`);
      notes.push(`${oursName}: skipped: ${reason}`);
      continue;
    }
    ctx.log(`import: ${oursName} vs ${theirsName}, ${ctx.scale.importRounds} rounds`);
    const contender = (probe: Probe): Contender => ({
      name: probe.name,
      run: async () => {
        const r = await runChild(probe);
        return { durationMs: r.ms, extra: { heap: r.heap } };
      },
    });
    const [a, b] = await interleavedRounds([contender(ours), contender(theirs)], { rounds: ctx.scale.importRounds, warmupRounds: 1, label: oursName });
    const time = spread(pairedRatios(a!.wallMs, b!.wallMs));
    const heap = spread(pairedRatios(a!.extra.heap!, b!.extra.heap!));
    rows.push([
      `${oursName} ÷ ${theirsName}`,
      `${fmt(spread(a!.wallMs).median, 1)} / ${fmt(spread(b!.wallMs).median, 1)}`,
      `**${fmtRatio(time)}**`,
      `${fmt(spread(a!.extra.heap!).median / 2 ** 20, 2)} / ${fmt(spread(b!.extra.heap!).median / 2 ** 20, 2)}`,
      `**${fmtRatio(heap)}**`,
    ]);
    if (targeted) {
      checks.push({ name: `import ${oursName.split(':')[0]}: time ratio`, value: time.median, target: TARGET });
      checks.push({ name: `import ${oursName.split(':')[0]}: heap ratio`, value: heap.median, target: TARGET });
    }
  }
  const markdown = [
    `Fresh \`node\` process per round (${ctx.scale.importRounds} rounds per side after a warmup, pairs interleaved), loading the built \`dist/\`. Time: from just before the first \`import()\`/\`require()\` until the transport exists (Node's own start-up left out). Heap: \`heapUsed\` after a forced GC minus the same before. Target for the app-password rows: ≤ ${TARGET}x.`,
    '',
    table(['pair (ours ÷ theirs)', 'median ms (ours / theirs)', 'time ratio', 'median heap MiB (ours / theirs)', 'heap ratio'], rows),
    ...notes.map((n) => `\n- ${n}`),
  ].join('\n');
  return { title: '3. Import cost', markdown, checks };
}
