import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
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
});
