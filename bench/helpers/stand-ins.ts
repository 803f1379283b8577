import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { StandInCommand, StandInReady, StandInStats } from './stand-ins-process.js';

type Command = StandInCommand extends infer C ? (C extends { id: number } ? Omit<C, 'id'> : never) : never;

/** The stand-in servers' process, seen from the benchmark (see stand-ins-process.ts). */
export interface StandIns {
  smtpPort: number;
  cert: string;
  /** http://127.0.0.1:PORT/token */
  tokenUrl: string;
  /** http://127.0.0.1:PORT (the Gmail API base) */
  gmailApiUrl: string;
  pid: number;
  stats(): Promise<StandInStats>;
  reset(): Promise<void>;
  configure(settings: { tokenExpiresInS?: number; tokenDelayMs?: number }): Promise<void>;
  close(): Promise<void>;
}

const SCRIPT = fileURLToPath(new URL('./stand-ins-process.ts', import.meta.url));
const REPLY_TIMEOUT_MS = 15_000;

/** Forks the stand-ins (through tsx, as the benchmark itself runs) and waits until they listen. */
export async function startStandIns(): Promise<StandIns> {
  const child = fork(SCRIPT, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await new Promise<StandInReady>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('stand-ins did not start within 20 s')), 20_000);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`stand-ins exited early (code ${code})`)));
    child.once('message', (msg) => {
      clearTimeout(timer);
      resolve(msg as StandInReady);
    });
  });
  child.removeAllListeners('exit');
  let nextId = 1;
  const pending = new Map<number, (payload: unknown) => void>();
  child.on('message', (msg) => {
    const { id, payload } = msg as { id: number; payload: unknown };
    pending.get(id)?.(payload);
    pending.delete(id);
  });
  const request = <T>(command: Command): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`stand-ins: no reply to ${command.cmd}`));
      }, REPLY_TIMEOUT_MS);
      pending.set(id, (payload) => {
        clearTimeout(timer);
        resolve(payload as T);
      });
      child.send({ ...command, id });
    });
  const base = `http://127.0.0.1:${ready.httpPort}`;
  return {
    smtpPort: ready.smtpPort,
    cert: ready.cert,
    tokenUrl: `${base}/token`,
    gmailApiUrl: base,
    pid: child.pid ?? -1,
    stats: () => request<StandInStats>({ cmd: 'stats' }),
    reset: () => request<boolean>({ cmd: 'reset' }).then(() => undefined),
    configure: (settings) => request<boolean>({ cmd: 'configure', ...settings }).then(() => undefined),
    close: () => closeChild(child, request<boolean>({ cmd: 'close' })),
  };
}

async function closeChild(child: ChildProcess, closing: Promise<unknown>): Promise<void> {
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  await Promise.race([closing.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 5_000))]);
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
