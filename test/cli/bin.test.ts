import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const tsx = createRequire(import.meta.url).resolve('tsx/cli');
const bin = fileURLToPath(new URL('../../src/cli/bin.ts', import.meta.url));

/** The bin as a process: argv, exit code and streams wired to the real ones. */
function runBin(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [tsx, bin, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env }, timeout: 15_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('gmail-transport bin', () => {
  it('prints a command help and exits 0; an unknown command exits 2', () => {
    const help = runBin(['auth', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: gmail-transport auth/);
    const unknown = runBin(['frobnicate']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command \(expected one of: auth, verify/);
  });

  it('exits 1 with a diagnosis when verify has no usable config, reading only the variables given', () => {
    const run = runBin(['verify', '--json'], { GMAIL_STRATEGY: 'app-password', GMAIL_USER: 'me@gmail.com' });
    expect(run.status).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: false, error: { code: 'CONFIG_INVALID', issues: [{ path: 'appPassword' }] } });
  });

  it('`log | head`: a reader that stops early ends the command quietly with 0, not with an EPIPE crash', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bin-log-'));
    try {
      // Far more than a pipe holds: the command is still writing when the reader goes away.
      const day = new Date().toISOString().slice(0, 10);
      const lines = Array.from({ length: 20_000 }, (_, i) =>
        JSON.stringify({
          id: `p.${i}`,
          time: `${day}T00:00:00.000Z`,
          strategy: 'app-password',
          user: 'me@gmail.com',
          to: [`r${i}@example.com`],
          status: 'delivered',
        }),
      );
      writeFileSync(join(dir, `send-${day}.jsonl`), `${lines.join('\n')}\n`);
      const child = spawn(process.execPath, [tsx, bin, 'log', '--dir', dir, '--format', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = once(child, 'exit');
      await once(child.stdout, 'data');
      child.stdout.destroy();
      const [code] = (await exited) as [number | null];
      expect(stderr).toBe('');
      expect(code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
