import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { parsePasswordHash, verifyPassword } from '../../src/bridge/password-hash.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../helpers/scripted-upstream.js';
import { fastHash } from '../helpers/bridge.js';
import { printerSend, scanMessage } from '../helpers/printer.js';

function capture() {
  const out: string[] = [];
  return { out, stream: { write: (text: string) => out.push(text) }, text: () => out.join('') };
}

describe('gmail-transport hash-password', () => {
  it('reads the password from piped stdin and prints a hash of it (not the password)', async () => {
    const stdout = capture();
    const stderr = capture();
    const io = { stdout: stdout.stream, stderr: stderr.stream, stdin: Readable.from([Buffer.from('FAKE-PIPED-PW-77c1\n')]) };
    expect(await main(['hash-password'], io)).toBe(0);
    const line = stdout.text().trim();
    expect(line).toMatch(/^\$scrypt\$ln=15,r=8,p=3\$/);
    expect(await verifyPassword('FAKE-PIPED-PW-77c1', parsePasswordHash(line)!)).toBe(true);
    expect(stdout.text() + stderr.text()).not.toContain('FAKE-PIPED-PW');
  });

  it('on a terminal, reads without echo until Enter (backspace works)', async () => {
    const stdout = capture();
    const stderr = capture();
    const raw: boolean[] = [];
    const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: (on: boolean) => raw.push(on) });
    const run = main(['hash-password'], { stdout: stdout.stream, stderr: stderr.stream, stdin } as never);
    stdin.write('FAKE-TTY-PW-19x');
    stdin.write('\u007fa\r');
    // Asked a second time (issue 19).
    stdin.write('FAKE-TTY-PW-19a\r');
    expect(await run).toBe(0);
    expect(raw).toEqual([true, false]);
    expect(await verifyPassword('FAKE-TTY-PW-19a', parsePasswordHash(stdout.text().trim())!)).toBe(true);
    expect(stderr.text()).toContain('not shown');
    expect(stderr.text()).not.toContain('FAKE-TTY-PW');
  });

  it('on a terminal, asks twice and refuses two different passwords, hashing nothing (issue 19)', async () => {
    const stdout = capture();
    const stderr = capture();
    const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => undefined });
    const run = main(['hash-password'], { stdout: stdout.stream, stderr: stderr.stream, stdin } as never);
    stdin.write('FAKE-TTY-PW-first-5e\rFAKE-TTY-PW-other-5e\r');
    expect(await run).toBe(1);
    expect(stdout.text()).toBe('');
    expect(stderr.text()).toContain('Device password (not shown): ');
    expect(stderr.text()).toContain('The same password again: ');
    expect(stderr.text()).toMatch(/the two passwords differ; nothing was hashed/);
    expect(stderr.text()).not.toContain('FAKE-TTY-PW');
  });

  it('on a terminal, a CR LF Enter counts once (issue 19)', async () => {
    const stdout = capture();
    const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => undefined });
    const run = main(['hash-password'], { stdout: stdout.stream, stderr: capture().stream, stdin } as never);
    stdin.write('FAKE-TTY-PW-crlf-8a\r\nFAKE-TTY-PW-crlf-8a\r\n');
    expect(await run).toBe(0);
    expect(await verifyPassword('FAKE-TTY-PW-crlf-8a', parsePasswordHash(stdout.text().trim())!)).toBe(true);
  });

  it('fails on an empty stdin', async () => {
    const stderr = capture();
    expect(await main(['hash-password'], { stdout: capture().stream, stderr: stderr.stream, stdin: Readable.from([]) } as never)).toBe(1);
    expect(stderr.text()).toMatch(/no password/);
  });
});

describe('gmail-transport serve', () => {
  let upstream: ScriptedUpstream;
  let dir: string;
  beforeAll(async () => {
    upstream = await startScriptedUpstream();
    dir = await mkdtemp(join(tmpdir(), 'bridge-cli-'));
    await writeFile(join(dir, 'upstream-ca.pem'), upstream.cert);
  });
  afterAll(async () => {
    await upstream.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs the bridge from a config with secret references, logs JSON lines, stops on SIGTERM', async () => {
    const hash = await fastHash('FAKE-SERVE-PW-4b4b');
    await writeFile(
      join(dir, 'bridge.json'),
      JSON.stringify({
        listen: { host: '127.0.0.1', port: 0 },
        tls: { selfSigned: true },
        accounts: [{ user: 'printer', passwordHash: { env: 'PRINTER_HASH' } }],
        allowNetworks: ['127.0.0.1'],
        upstream: { strategy: 'relay', host: '127.0.0.1', port: upstream.port, secure: true, smtp: { tls: { ca: [{ file: 'upstream-ca.pem' }] } } },
      }),
    );
    const stdout = capture();
    const stderr = capture();
    const signals = new EventEmitter();
    let listening!: (port: number) => void;
    const port = new Promise<number>((resolve) => (listening = resolve));
    const run = main(['serve', '--config', 'bridge.json'], {
      stdout: stdout.stream,
      stderr: stderr.stream,
      cwd: dir,
      env: { PRINTER_HASH: hash },
      signals,
      onListening: (addresses: Array<{ port: number }>) => listening(addresses[0]!.port),
    } as never);
    const bridgePort = await port;
    expect(stderr.text()).toMatch(/listening on 127\.0\.0\.1:\d+ \(STARTTLS\)/);
    const result = await printerSend(bridgePort, {
      from: 'scans@example.com',
      to: ['alice@example.com'],
      message: scanMessage({ from: 'scans@example.com', to: 'alice@example.com' }),
    });
    expect(result.final).toMatch(/^250 /);
    signals.emit('SIGTERM');
    expect(await run).toBe(0);

    const lines = stdout
      .text()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const events = lines.map((l) => l.event);
    expect(events).toEqual(expect.arrayContaining(['self-signed', 'listening', 'message', 'stopping', 'closed']));
    expect(events.at(-1)).toBe('closed');
    expect(lines.find((l) => l.event === 'message')).toMatchObject({ level: 'info', time: expect.any(String), outcome: 'delivered', client: '127.0.0.1' });
    // The certificate was kept beside the config file.
    expect(lines.find((l) => l.event === 'self-signed')!.certificate).toBe(join(dir, 'gmail-transport-bridge.crt'));
    expect(stdout.text()).not.toContain(hash);
  });

  it('checks the upstream at start and logs a failure without stopping (devices get 451 meanwhile)', async () => {
    const closed = await startScriptedUpstream();
    const deadPort = closed.port;
    await closed.close();
    await writeFile(
      join(dir, 'dead.json'),
      JSON.stringify({ listen: { port: 0 }, allowNetworks: ['127.0.0.1'], upstream: { strategy: 'relay', host: '127.0.0.1', port: deadPort, secure: true } }),
    );
    const stdout = capture();
    const signals = new EventEmitter();
    const run = main(['serve', '--config', 'dead.json'], { stdout: stdout.stream, stderr: capture().stream, cwd: dir, signals } as never);
    while (!stdout.text().includes('upstream-verify-failed')) await new Promise((r) => setTimeout(r, 20));
    const line = stdout
      .text()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.event === 'upstream-verify-failed');
    expect(line).toMatchObject({ level: 'error', code: 'CONNECTION_FAILED', hint: expect.any(String) });
    signals.emit('SIGINT');
    expect(await run).toBe(0);
  });

  it('reports an invalid config by field and exits 1, quoting no value', async () => {
    await writeFile(
      join(dir, 'bad.json'),
      JSON.stringify({ accounts: [{ user: 'printer', passwordHash: 'FAKE-CLEAR-PW-0000' }], upstream: { strategy: 'relay' } }),
    );
    const stderr = capture();
    expect(await main(['serve', '--config', 'bad.json'], { stdout: capture().stream, stderr: stderr.stream, cwd: dir })).toBe(1);
    expect(stderr.text()).toMatch(/FAILED CONFIG_INVALID/);
    expect(stderr.text()).toMatch(/accounts\[0\]\.passwordHash/);
    expect(stderr.text()).toMatch(/upstream\.host/);
    expect(stderr.text()).not.toContain('FAKE-CLEAR-PW');
  });

  it('needs --config, and is listed in the help', async () => {
    const stderr = capture();
    expect(await main(['serve'], { stdout: capture().stream, stderr: stderr.stream })).toBe(2);
    expect(stderr.text()).toMatch(/--config FILE is required/);
    const help = capture();
    await main(['--help'], { stdout: help.stream });
    expect(help.text()).toMatch(/serve .*bridge/);
    expect(help.text()).toMatch(/hash-password/);
  });
});
