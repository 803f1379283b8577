import { afterEach, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Spool } from '../../src/bridge/spool.js';
import { isGmailTransportError } from '../../src/index.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../helpers/scripted-upstream.js';
import { messageLogs, relayTo, startBridge, type RunningBridge } from '../helpers/bridge.js';
import { RawSmtpClient, printerSend, scanMessage } from '../helpers/printer.js';

// Messages in flight are kept in files, not in memory (issue 18): what lies on disk, for how long.
describe('bridge spool (spoolDir)', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    while (cleanup.length) await cleanup.pop()!();
  });
  async function setup(
    upstreamOpts: Parameters<typeof startScriptedUpstream>[0] = {},
  ): Promise<{ upstream: ScriptedUpstream; bridge: RunningBridge; spoolDir: string }> {
    const spoolDir = await mkdtemp(join(tmpdir(), 'bridge-spool-'));
    cleanup.push(() => rm(spoolDir, { recursive: true, force: true }));
    const upstream = await startScriptedUpstream(upstreamOpts);
    cleanup.push(() => upstream.close());
    const bridge = await startBridge({ allowNetworks: ['127.0.0.1'], upstream: relayTo(upstream), spoolDir });
    cleanup.push(() => bridge.close());
    return { upstream, bridge, spoolDir };
  }
  const message = scanMessage({ from: 'scans@example.com', to: 'alice@example.com', attachmentBytes: 200_000 });
  /** A device that has sent its envelope and DATA, about to send the message. */
  async function atData(port: number): Promise<RawSmtpClient> {
    const client = await RawSmtpClient.connect(port);
    await client.read();
    for (const [command, reply] of [
      ['EHLO scanner.local', '250'],
      ['MAIL FROM:<scans@example.com>', '250'],
      ['RCPT TO:<alice@example.com>', '250'],
      ['DATA', '354'],
    ]) {
      expect(await client.command(command!)).toMatch(new RegExp(`^${reply}`));
    }
    return client;
  }

  it('a message in flight is one 0600 file in a 0700 directory of its own, gone once the device has its answer', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { upstream, bridge, spoolDir } = await setup({ decide: () => gate.then(() => undefined) });
    expect(await readdir(spoolDir)).toEqual([]);
    const client = await atData(bridge.port);
    const reply = client.command(`${message.replace(/\r\n\./g, '\r\n..')}\r\n.`);
    while (upstream.pending === 0) await new Promise((r) => setTimeout(r, 10));
    const [dir, ...others] = await readdir(spoolDir);
    expect(others).toEqual([]);
    expect(dir).toMatch(/^gmail-transport-bridge-/);
    expect((await stat(join(spoolDir, dir!))).mode & 0o777).toBe(0o700);
    expect(await readdir(join(spoolDir, dir!))).toEqual(['message.eml']);
    const file = join(spoolDir, dir!, 'message.eml');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readFile(file, 'utf8')).toBe(`${message}\r\n`);
    release();
    expect(await reply).toMatch(/^250 /);
    expect(upstream.accepted[0]!.raw.toString()).toBe(`${message}\r\n`);
    while ((await readdir(spoolDir)).length > 0) await new Promise((r) => setTimeout(r, 10));
    client.close();
  });

  it('a device that hangs up in the middle of a message leaves nothing behind and sends nothing', async () => {
    const { upstream, bridge, spoolDir } = await setup();
    const client = await atData(bridge.port);
    client.write(message.slice(0, 100_000));
    await new Promise((r) => setTimeout(r, 100));
    client.close();
    await new Promise((r) => setTimeout(r, 200));
    expect(await readdir(spoolDir)).toEqual([]);
    expect(upstream.accepted).toEqual([]);
    expect(messageLogs(bridge.logs)).toEqual([]);
    // The bridge goes on serving.
    expect((await printerSend(bridge.port, { from: 'scans@example.com', to: ['alice@example.com'], message })).final).toMatch(/^250 /);
  });

  it('spoolDir gone while running: the device is told 451 4.3.0 (retry), logged as an error; once it is back, messages go through', async () => {
    const { upstream, bridge, spoolDir } = await setup();
    await rm(spoolDir, { recursive: true });
    const result = await printerSend(bridge.port, { from: 'scans@example.com', to: ['alice@example.com'], message });
    expect(result.final).toBe('451 4.3.0 Bridge cannot hold the message right now, try again later');
    expect(upstream.accepted).toEqual([]);
    const line = bridge.logs.find((l) => l.record.event === 'message')!;
    expect(line.level).toBe('error');
    expect(line.record).toMatchObject({ outcome: 'deferred', reply: '451 4.3.0', spoolError: 'ENOENT' });
    await mkdir(spoolDir);
    expect((await printerSend(bridge.port, { from: 'scans@example.com', to: ['alice@example.com'], message })).final).toMatch(/^250 /);
  });

  it('a spoolDir the bridge cannot write: listen() fails with CONFIG_INVALID naming spoolDir', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bridge-spool-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'a-file'), 'x');
    const upstream = await startScriptedUpstream();
    cleanup.push(() => upstream.close());
    let err: unknown;
    try {
      const b = await startBridge({ allowNetworks: ['127.0.0.1'], upstream: relayTo(upstream), spoolDir: join(dir, 'a-file') });
      cleanup.push(() => b.close());
    } catch (e) {
      err = e;
    }
    expect(isGmailTransportError(err) && err.code).toBe('CONFIG_INVALID');
    expect(isGmailTransportError(err) && err.issues).toEqual([{ path: 'spoolDir', message: 'cannot create a directory in it (ENOTDIR)' }]);
  });

  it('a device that hangs up while its file is being opened: receive() rejects, nothing is left, and no rejection goes unhandled (it would end the process)', async () => {
    const spoolDir = await mkdtemp(join(tmpdir(), 'bridge-spool-'));
    cleanup.push(() => rm(spoolDir, { recursive: true, force: true }));
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    cleanup.push(async () => void process.off('unhandledRejection', onUnhandled));
    const stream = new PassThrough();
    const receiving = new Spool(spoolDir).receive(stream, 1_000_000);
    // What smtp-server does when the socket closes mid-message: the data stream errors at once,
    // while the spool is still making the message's directory.
    stream.destroy(Object.assign(new Error('Connection closed before the message was received in full'), { code: 'ECONNECTION' }));
    await new Promise((resolve) => setImmediate(resolve));
    await expect(receiving).rejects.toMatchObject({ code: 'ECONNECTION' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(unhandled).toEqual([]);
    expect(await readdir(spoolDir)).toEqual([]);
  });
});
