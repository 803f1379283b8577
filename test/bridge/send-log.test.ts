import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSendLog, type GmailTransportConfig, type SendRecord } from '../../src/index.js';
import { createBridge } from '../../src/bridge/index.js';
import { main } from '../../src/cli/main.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../helpers/scripted-upstream.js';
import { fastHash, messageLogs, startBridge, type RunningBridge } from '../helpers/bridge.js';
import { printerSend, scanMessage } from '../helpers/printer.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const PRINTER_PASSWORD = 'FAKE-PRINTER-PW-5e21';
const APP_PASSWORD = 'fakeapppwdbridge';
// "会議資料" from a Japanese scanner: ISO-2022-JP in an encoded-word.
const SUBJECT_WORD = `=?ISO-2022-JP?B?${Buffer.from('1b2442327135443b714e411b2842', 'hex').toString('base64')}?=`;

let upstream: ScriptedUpstream;
let hash: string;
const tempDir = tempDirs('bridge-send-log-');
beforeAll(async () => {
  upstream = await startScriptedUpstream({
    decide: (m) => (m.to.includes('full@example.com') ? '452 4.2.2 Mailbox full' : m.to.includes('gone@example.com') ? '550 5.1.1 No such user' : undefined),
  });
  hash = await fastHash(PRINTER_PASSWORD);
});
afterAll(async () => {
  await upstream.close();
});

function upstreamConfig(): GmailTransportConfig {
  return {
    strategy: 'app-password',
    user: 'scans@example.com',
    appPassword: APP_PASSWORD,
    smtp: { host: '127.0.0.1', port: upstream.port, secure: true, tls: { ca: [upstream.cert] } },
  };
}

function records(dir: string): SendRecord[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => readFileSync(join(dir, name), 'utf8').split('\n').filter(Boolean))
    .map((line) => JSON.parse(line) as SendRecord);
}

describe('bridge sendLog (issue 21)', () => {
  let bridge: RunningBridge;
  let baseDir: string;
  const onDisk: number[] = [];
  beforeAll(async () => {
    baseDir = tempDir();
    bridge = await startBridge({
      accounts: [{ user: 'printer-3f', passwordHash: hash }],
      allowNetworks: ['127.0.0.1'],
      upstream: upstreamConfig(),
      baseDir,
      // Relative: beside the config file (baseDir), like the bridge's other paths.
      sendLog: { dir: 'send-log', subjects: true },
    });
    // The bridge logs each message just before the device gets its reply: the record is there by then.
    bridge.bridge.on('message', () => onDisk.push(records(join(baseDir, 'send-log')).length));
  });
  afterAll(() => bridge.close());

  const scan = (job: { to: string[]; login?: boolean }) =>
    printerSend(bridge.port, {
      ...(job.login !== false ? { startTls: { ca: bridge.cert }, user: 'printer-3f', pass: PRINTER_PASSWORD } : {}),
      from: 'scans@example.com',
      to: job.to,
      message: scanMessage({ from: 'scans@example.com', to: job.to.join(', '), subject: SUBJECT_WORD, messageId: `<scan-${job.to[0]}@printer.local>` }),
    });

  it('a logged-in printer: the record names its account and address, and is written before the device hears 250', async () => {
    const result = await scan({ to: ['alice@example.com', 'bob@example.com'] });
    expect(result.final).toMatch(/^250 /);
    const dir = join(baseDir, 'send-log');
    const [record] = records(dir);
    const log = messageLogs(bridge.logs).at(-1)!;
    expect(record).toEqual({
      id: log.id,
      time: expect.any(String),
      strategy: 'app-password',
      user: 'scans@example.com',
      from: 'scans@example.com',
      to: ['alice@example.com', 'bob@example.com'],
      messageId: '<scan-alice@example.com@printer.local>',
      size: upstream.accepted.at(-1)!.raw.length,
      status: 'delivered',
      response: expect.stringMatching(/^250 2\.0\.0 OK queued as up\d+$/),
      upstreamId: expect.stringMatching(/^up\d+$/),
      latencyMs: expect.any(Number),
      attempts: 1,
      subject: '会議資料',
      account: 'printer-3f',
      client: '127.0.0.1',
    });
    expect(onDisk).toEqual([1]);
  });

  it('a device of an allowed network without login: account network:<address>', async () => {
    const result = await scan({ to: ['carol@example.com'], login: false });
    expect(result.final).toMatch(/^250 /);
    expect(records(join(baseDir, 'send-log')).at(-1)).toMatchObject({
      account: 'network:127.0.0.1',
      client: '127.0.0.1',
      status: 'delivered',
      to: ['carol@example.com'],
    });
  });

  it('refused and deferred upstream: records with the outcome the device was told', async () => {
    expect((await scan({ to: ['gone@example.com'] })).final).toMatch(/^5/);
    expect((await scan({ to: ['full@example.com'] })).final).toMatch(/^4/);
    const [gone, full] = records(join(baseDir, 'send-log')).slice(-2);
    expect(gone).toMatchObject({ status: 'refused', account: 'printer-3f', client: '127.0.0.1', response: '550 5.1.1 No such user' });
    expect(full).toMatchObject({ status: 'deferred', account: 'printer-3f', response: '452 4.2.2 Mailbox full' });
    expect(onDisk).toEqual([1, 2, 3, 4]);
  });

  it('read back by account through the CLI and readSendLog; no secret in any record', async () => {
    const dir = join(baseDir, 'send-log');
    let stdout = '';
    const code = await main(['log', '--dir', dir, '--account', 'printer-3f', '--format', 'json'], {
      stdout: { write: (t: string) => (stdout += t) },
      stderr: { write: () => true },
      cwd: baseDir,
    });
    expect(code).toBe(0);
    expect(
      stdout
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as SendRecord).status),
    ).toEqual(['deferred', 'refused', 'delivered']);
    let table = '';
    await main(['log', '--dir', dir], { stdout: { write: (t: string) => (table += t) }, stderr: { write: () => true }, cwd: baseDir });
    expect(table.split('\n')[0]).toMatch(/ACCOUNT\s+SUBJECT$/);
    expect(table).toContain('network:127.0.0.1');
    expect(table).toContain('会議資料');
    const network: SendRecord[] = [];
    for await (const r of readSendLog({ dir, account: 'network:127.0.0.1' })) network.push(r);
    expect(network.map((r) => r.to)).toEqual([['carol@example.com']]);
    const text = readFileSync(join(dir, readdirSync(dir)[0]!), 'utf8');
    for (const secret of [PRINTER_PASSWORD, APP_PASSWORD, 'Scanned on the 3rd floor']) expect(text).not.toContain(secret);
  });
});

describe('bridge sendLog config', () => {
  it('set on both the bridge and its upstream: CONFIG_INVALID naming upstream.sendLog', () => {
    expect(() => createBridge({ allowNetworks: ['127.0.0.1'], upstream: { ...upstreamConfig(), sendLog: { dir: 'a' } }, sendLog: { dir: 'b' } })).toThrowError(
      /upstream\.sendLog is set on the bridge already/,
    );
  });

  it('invalid: CONFIG_INVALID naming the field under sendLog', () => {
    expect(() => createBridge({ allowNetworks: ['127.0.0.1'], upstream: upstreamConfig(), sendLog: { retentionDays: 7 } as never })).toThrowError(
      /sendLog\.dir is required/,
    );
  });

  it('a log folder that cannot be written: the device still gets its 250, the bridge logs a warning', async () => {
    const parent = tempDir();
    writeFileSync(join(parent, 'blocked'), '');
    const b = await startBridge({ allowNetworks: ['127.0.0.1'], upstream: upstreamConfig(), sendLog: { dir: join(parent, 'blocked', 'log') } });
    try {
      const result = await printerSend(b.port, {
        from: 'scans@example.com',
        to: ['dave@example.com'],
        message: scanMessage({ from: 'scans@example.com', to: 'dave@example.com' }),
      });
      expect(result.final).toMatch(/^250 /);
      expect(b.logs.filter((l) => l.record.event === 'send-log')).toEqual([
        expect.objectContaining({
          level: 'warn',
          record: { event: 'send-log', code: 'SEND_LOG_WRITE_FAILED' },
          msg: expect.stringContaining('ENOTDIR') as string,
        }),
      ]);
    } finally {
      await b.close();
    }
  });
});
