import type { ChildProcess } from 'node:child_process';
import { freePort, spawnRedis } from './redis.js';

/** A redis-server that a test can kill without warning and start again on the same port. */
export interface KillableRedis {
  port: number;
  url: string;
  /** SIGKILL: no shutdown, no goodbye to clients, nothing saved. Resolves once it has exited. */
  kill(): Promise<void>;
  /** Starts a fresh, empty redis-server on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function exited(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/** Starts redis-server on a free port of 127.0.0.1, persistence off. */
export async function startKillableRedis(): Promise<KillableRedis> {
  const port = await freePort();
  let child = await spawnRedis(port);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill: () => exited(child, 'SIGKILL'),
    async restart() {
      child = await spawnRedis(port);
    },
    stop: () => exited(child, 'SIGTERM'),
  };
}
