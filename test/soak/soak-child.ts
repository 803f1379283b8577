/**
 * The client side of soak.test.ts, in a process of its own started with --expose-gc so its heap
 * can be measured alone: an oauth2 transport (pool of 5, maxMessages Infinity) sends WARMUP
 * messages, then MESSAGES more with at most WINDOW in flight, and prints one JSON line: what
 * became of each message, the heap after a forced GC before and after the run, and the time.
 * Its clock runs CLOCK_SCALE times faster than real time from CLOCK_EPOCH.
 */
import { isGmailTransportError, type TransportEvents } from '../../src/index.js';
import { createTransportWith } from '../../src/transport/create.js';
import { systemClock, type Clock } from '../../src/core/clock.js';
import { localSmtpFromEnv, need, oauth2FromEnv } from '../helpers/child-env.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const escaped: string[] = [];
process.on('unhandledRejection', (reason) => escaped.push(String(reason)));

const epoch = Number(need('CLOCK_EPOCH'));
const scale = Number(need('CLOCK_SCALE'));
const clock: Clock = {
  now: () => epoch + (Date.now() - epoch) * scale,
  sleep: (ms, signal) => systemClock.sleep(ms / scale, signal),
  random: () => Math.random(),
};

const mailer = createTransportWith(
  {
    ...oauth2FromEnv(),
    smtp: localSmtpFromEnv(),
    pool: true,
    maxConnections: 5,
    maxMessages: Infinity,
    // On this clock an attempt's real milliseconds count CLOCK_SCALE times over: the bound on elapsed
    // time is lifted so that only `attempts` decides, as the parent predicts.
    retry: { attempts: 3, minDelayMs: 1, maxDelayMs: 10, maxElapsedMs: 24 * 3_600_000 },
    // Tens of thousands of messages as one mailbox, far past Google's daily limits.
    budget: false,
  },
  undefined,
  { clock },
);
let tokenEvents = 0;
let retryEvents = 0;
const warnings: TransportEvents['warning'][] = [];
mailer.on('token', () => tokenEvents++);
mailer.on('retry', () => retryEvents++);
mailer.on('warning', (w) => warnings.push(w));

interface Rejection {
  id: string;
  code: string;
  retryable?: boolean;
  phase?: string;
}

async function run(prefix: string, count: number, window: number): Promise<{ accepted: number; rejected: Rejection[] }> {
  let next = 0;
  let accepted = 0;
  const rejected: Rejection[] = [];
  const worker = async (): Promise<void> => {
    while (next < count) {
      const id = `${prefix}${next++}`;
      try {
        await mailer.sendMail({ from: 'me@gmail.com', to: 'you@example.com', subject: id, text: 'soak', headers: { [need('ID_HEADER')]: id } });
        accepted++;
      } catch (err) {
        rejected.push(
          isGmailTransportError(err)
            ? { id, code: err.code, retryable: err.retryable, ...(err.phase ? { phase: err.phase } : {}) }
            : { id, code: `untyped: ${String(err)}` },
        );
      }
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  return { accepted, rejected };
}

function settledHeap(): number {
  // Several passes: a finalizer or a weak reference can free more on the next one.
  for (let i = 0; i < 4; i++) gc!();
  return process.memoryUsage().heapUsed;
}

const window = Number(need('WINDOW'));
const warmup = await run('w', Number(need('WARMUP')), window);
const heapStart = settledHeap();
const started = performance.now();
const main = await run('m', Number(need('MESSAGES')), window);
const durationMs = Math.round(performance.now() - started);
const heapEnd = settledHeap();
const totalMs = Math.round(performance.now());
mailer.close();
process.stdout.write(`${JSON.stringify({ warmup, main, heapStart, heapEnd, durationMs, totalMs, tokenEvents, retryEvents, warnings, escaped })}\n`);
