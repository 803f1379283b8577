import { spawn } from 'node:child_process';

export interface ChildResult<T> {
  /** The JSON line the child printed. */
  report: T;
  /** Its exit code, or 'still running' when it had not exited `exitBoundMs` after printing. */
  exit: number | null | 'still running';
  stderr: string;
}

/**
 * Runs a TypeScript file in a child Node process (through tsx), waits for the one JSON line it
 * prints when done, then gives it `exitBoundMs` to exit on its own. A child that is still
 * running by then is killed and reported as such: something (a socket, a timer) kept its event
 * loop alive after it was done.
 */
export async function runChild<T>(script: string, env: Record<string, string>, opts: { nodeArgs?: string[]; exitBoundMs: number }): Promise<ChildResult<T>> {
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const printed = new Promise<string | undefined>((resolve) => {
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (stdout.includes('\n')) resolve(stdout.slice(0, stdout.indexOf('\n')));
    });
    void exited.then(() => resolve(undefined));
  });
  const line = await printed;
  if (line === undefined) throw new Error(`the child ended without a report (exit ${await exited}): ${stderr}`);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'still running'>((resolve) => {
    timer = setTimeout(() => resolve('still running'), opts.exitBoundMs);
  });
  const exit = await Promise.race([exited, deadline]);
  clearTimeout(timer);
  if (exit === 'still running') child.kill('SIGKILL');
  return { report: JSON.parse(line) as T, exit, stderr };
}
