/**
 * 5. Bridge memory: what each message in flight costs the bridge. Ten devices send a 30 MB
 * message each at the same time; the figure is the bridge process's peak resident set growth
 * divided by the bytes of all messages in flight together.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { appPasswordConfig } from './helpers/configs.js';
import { DIST_BRIDGE_ESM } from './helpers/package.js';
import { fmt, median, table } from './helpers/stats.js';
import type { BenchContext, SectionResult } from './helpers/context.js';
import type { BridgeWorkerCommand, BridgeWorkerJob, BridgeWorkerReply } from './workers/bridge-worker.js';

const DEVICES = 10;
const MESSAGE_BYTES = 30 * 1024 * 1024;
const TARGET = 1.1;
const GOAL = 0.2;
const WORKER = fileURLToPath(new URL('./workers/bridge-worker.ts', import.meta.url));

export async function benchBridgeMemory(ctx: BenchContext): Promise<SectionResult> {
  const { standIns, log } = ctx;
  const title = '5. Bridge memory per message in flight';
  const rounds = ctx.scale.bridgeMemoryRounds;
  const body = messageBody(MESSAGE_BYTES);
  log(`bridge-memory: ${rounds} rounds of ${DEVICES} devices x ${fmt(MESSAGE_BYTES / 2 ** 20, 0)} MiB at once, a fresh bridge process each`);
  const ratios: number[] = [];
  const rows: string[][] = [];
  let source = '';
  for (let round = 0; round < rounds; round++) {
    const before = (await standIns.stats()).smtpMessages;
    const worker = await startWorker({ distBridgeEsm: DIST_BRIDGE_ESM, upstream: appPasswordConfig(standIns, undefined), maxConnections: 2 * DEVICES });
    try {
      // A small message first: the bridge's runtime, TLS and the upstream client are loaded
      // before the baseline, so the figure counts the messages only.
      await sendMessage(worker.port, 1, messageBody(4096), Promise.resolve());
      const baseline = await worker.ask({ cmd: 'mark' });
      let allWritten!: () => void;
      const written = new Promise<void>((resolve) => (allWritten = resolve));
      let pending = DEVICES;
      // Every device holds back its final dot until every body has been written: all ten
      // messages are in the bridge at the same time.
      const sends = Array.from({ length: DEVICES }, (_, i) =>
        sendMessage(worker.port, 11 + i, body, written, () => {
          if (--pending === 0) allWritten();
        }),
      );
      const replies = await Promise.all(sends);
      const bad = replies.find((r) => !r.startsWith('250 '));
      if (bad) throw new Error(`bridge-memory: a device got "${bad}" instead of 250`);
      const peak = await worker.ask({ cmd: 'peak' });
      const delivered = (await standIns.stats()).smtpMessages - before;
      if (delivered !== DEVICES + 1) throw new Error(`bridge-memory: the upstream counted ${delivered} messages, expected ${DEVICES + 1}`);
      const growth = peak.peakRss! - baseline.rss;
      const ratio = growth / (DEVICES * MESSAGE_BYTES);
      source = peak.peakSource ?? source;
      ratios.push(ratio);
      rows.push([String(round + 1), mib(baseline.rss), mib(peak.peakRss!), mib(growth), fmt(ratio, 3)]);
      log(`bridge-memory round ${round + 1}: baseline ${mib(baseline.rss)}, peak ${mib(peak.peakRss!)}, ratio ${fmt(ratio, 3)}`);
    } finally {
      await worker.close();
    }
  }
  const value = median(ratios);
  const markdown = [
    `${DEVICES} devices, each from an address of its own, send one ${fmt(MESSAGE_BYTES / 2 ** 20, 0)} MiB message (${DEVICES * (MESSAGE_BYTES / 2 ** 20)} MiB in flight together) to a bridge in a process of its own (allowNetworks, plain SMTP), which delivers to the TLS stand-in through an \`app-password\` upstream (a connection per message). Every device holds back its final dot until all bodies are written. Ratio: the bridge's peak resident set (${source === 'VmHWM' ? "the kernel's VmHWM" : 'sampled every 5 ms'}) minus its resident set after a warmup message and a forced GC, divided by the bytes in flight. Target ≤ ${TARGET}, goal ≤ ${GOAL}; median of ${rounds} rounds, a fresh bridge process each.`,
    '',
    table(['round', 'baseline RSS', 'peak RSS', 'growth', 'growth ÷ bytes in flight'], rows),
  ].join('\n');
  return { title, markdown, checks: [{ name: `bridge RSS growth ÷ bytes in flight (${DEVICES} × 30 MiB)`, value, target: TARGET }] };
}

function mib(bytes: number): string {
  return `${fmt(bytes / 2 ** 20, 1)} MiB`;
}

/** A message of exactly `bytes` bytes: a short header, then 76-character lines (no leading dot). */
function messageBody(bytes: number): Buffer {
  const header = Buffer.from('From: bench@example.com\r\nTo: archive@example.com\r\nSubject: bridge memory\r\nMessage-ID: <bench@bridge.local>\r\n\r\n');
  const line = Buffer.from(`${'QmVuY2htYXJr'.repeat(7).slice(0, 76)}\r\n`);
  const out = Buffer.alloc(bytes, line.toString());
  header.copy(out, 0);
  // The body ends on a whole line: the final dot follows a CRLF.
  out.write('\r\n', bytes - 2);
  return out;
}

/**
 * One device: greeting, EHLO, envelope, DATA, the body (the write waits for the socket to
 * drain), then, once `release` resolves, the final dot. Resolves with the reply to it.
 */
async function sendMessage(port: number, hostByte: number, body: Buffer, release: Promise<void>, onWritten?: () => void): Promise<string> {
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1', localAddress: `127.0.0.${hostByte}` }, () => resolve(s));
    s.once('error', reject);
  });
  const replies = replyReader(socket);
  try {
    const expect = async (code: string, what: string): Promise<void> => {
      const reply = await replies.next();
      if (!reply.startsWith(code)) throw new Error(`bridge-memory: ${what} got "${reply}"`);
    };
    await expect('220', 'greeting');
    for (const [command, code] of [
      ['EHLO device.local', '250'],
      [`MAIL FROM:<device${hostByte}@example.com>`, '250'],
      ['RCPT TO:<archive@example.com>', '250'],
      ['DATA', '354'],
    ] as const) {
      socket.write(`${command}\r\n`);
      await expect(code, command);
    }
    await new Promise<void>((resolve, reject) => socket.write(body, (err) => (err ? reject(err) : resolve())));
    onWritten?.();
    await release;
    socket.write('.\r\n');
    const final = await replies.next();
    socket.end('QUIT\r\n');
    return final;
  } finally {
    socket.destroy();
  }
}

function replyReader(socket: Socket): { next(): Promise<string> } {
  let buffer = '';
  let wake: (() => void) | undefined;
  let closed = false;
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    wake?.();
  });
  socket.on('close', () => {
    closed = true;
    wake?.();
  });
  socket.on('error', () => undefined);
  return {
    async next() {
      for (;;) {
        const match = /^(?:\d{3}-[^\r\n]*\r\n)*\d{3}(?: [^\r\n]*)?\r\n/.exec(buffer);
        if (match) {
          buffer = buffer.slice(match[0].length);
          return match[0].trimEnd();
        }
        if (closed) return '(connection closed)';
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
  };
}

interface Worker {
  port: number;
  ask(command: BridgeWorkerCommand): Promise<BridgeWorkerReply>;
  close(): Promise<void>;
}

async function startWorker(job: BridgeWorkerJob): Promise<Worker> {
  const child: ChildProcess = fork(WORKER, [], { execArgv: ['--expose-gc', '--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await new Promise<{ port: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('bridge worker did not start within 30 s')), 30_000);
    child.once('exit', (code) => reject(new Error(`bridge worker exited early (code ${code})`)));
    child.once('message', (m) => {
      clearTimeout(timer);
      resolve(m as { port: number });
    });
    child.send(job);
  });
  child.removeAllListeners('exit');
  const ask = (command: BridgeWorkerCommand): Promise<BridgeWorkerReply> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`bridge worker: no reply to ${command.cmd}`)), 60_000);
      child.once('message', (m) => {
        clearTimeout(timer);
        resolve(m as BridgeWorkerReply);
      });
      child.send(command);
    });
  return {
    port: ready.port,
    ask,
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.send({ cmd: 'close' } satisfies BridgeWorkerCommand);
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
