import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HeaderReader, headerAddresses } from '../../src/bridge/headers.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../helpers/scripted-upstream.js';
import { fastHash, relayTo, startBridge, type RunningBridge } from '../helpers/bridge.js';
import { printerSend } from '../helpers/printer.js';
import type { BridgeRefusalRecord } from '../../src/bridge/index.js';

function read(message: string, chunkSize: number): HeaderReader {
  const reader = new HeaderReader();
  const bytes = Buffer.from(message);
  for (let i = 0; i < bytes.length && !reader.done; i += chunkSize) reader.push(bytes.subarray(i, i + chunkSize));
  reader.end();
  return reader;
}

describe('reading From, Sender and Message-ID as the message streams past', () => {
  const message = [
    'Received: from printer.local',
    'From: Office Scanner',
    '\t<scans@example.com>',
    'Sender: floor3@office.example.com',
    'Message-ID: <scan-77@printer.local>',
    'from: second@example.com',
    'Subject: =?UTF-8?B?5pel5pys6Kqe?=',
    '',
    'From: not-a-header@bank.example',
    '',
  ].join('\r\n');

  it('gives the same fields whatever the chunks, stops at the blank line, unfolds continuation lines', () => {
    for (const size of [1, 2, 3, 7, 64, 100_000]) {
      const reader = read(message, size);
      expect(reader.headers).toEqual({
        from: [' Office Scanner\t<scans@example.com>', ' second@example.com'],
        sender: [' floor3@office.example.com'],
        messageId: '<scan-77@printer.local>',
      });
    }
  });

  it('reads a message without a blank line as all header, bare LF lines too', () => {
    expect(read('From: a@example.com\nSender: b@example.com', 5).headers).toEqual({ from: [' a@example.com'], sender: [' b@example.com'] });
  });

  it('keeps a bounded part of a long field and marks a From it could not read whole', () => {
    const long = `From: ${'x'.repeat(100_000)} <scans@example.com>\r\nX-Long: ${'y'.repeat(200_000)}\r\nSender: s@example.com\r\n\r\n`;
    expect(read(long, 4096).headers).toEqual({ from: [undefined], sender: [' s@example.com'] });
    expect(headerAddresses(undefined)).toBeUndefined();
  });

  it('finds every address of a mailbox list or group, and none in a name without one', () => {
    expect(headerAddresses(' "scans@example.com" <ceo@bank.example>')).toEqual(['ceo@bank.example']);
    expect(headerAddresses(' Scanners: scans@example.com, Floor 3 <floor3@office.example.com>;')).toEqual(['scans@example.com', 'floor3@office.example.com']);
    expect(headerAddresses(' undisclosed')).toBeUndefined();
    expect(headerAddresses(' ')).toBeUndefined();
  });
});

describe('allowFrom covers the header From and Sender, not only the envelope (issue 18)', () => {
  const PASSWORD = 'FAKE-HEADER-PW-5a2c';
  let upstream: ScriptedUpstream;
  let b: RunningBridge;
  // Events, one per refusal (the log summarises repeated ones).
  const refused: BridgeRefusalRecord[] = [];
  beforeAll(async () => {
    upstream = await startScriptedUpstream();
    const passwordHash = await fastHash(PASSWORD);
    b = await startBridge({
      accounts: [
        { user: 'printer', passwordHash, allowFrom: ['scans@example.com', '@office.example.com'] },
        { user: 'app', passwordHash },
      ],
      allowNetworks: ['127.0.0.2'],
      upstream: relayTo(upstream),
    });
    b.bridge.on('refused', (r) => refused.push(r));
  });
  afterEach(() => {
    refused.length = 0;
  });
  afterAll(async () => {
    await b.close();
    await upstream.close();
  });

  const body = (headers: string[]) =>
    [...headers, 'To: alice@example.com', 'Subject: Scan', '', 'Scanned.', 'From: ceo@bank.example (a line of the body)', ''].join('\r\n');
  async function send(headers: string[], user: string | null = 'printer'): Promise<{ final: string; delivered: number }> {
    const before = upstream.accepted.length;
    const job = { from: 'scans@example.com', to: ['alice@example.com'], message: body(headers) };
    const result = user
      ? await printerSend(b.port, { ...job, startTls: { ca: b.cert }, user, pass: PASSWORD })
      : await printerSend(b.port, { ...job, localAddress: '127.0.0.2' });
    return { final: result.final, delivered: upstream.accepted.length - before };
  }

  it.each([
    [['From: ceo@bank.example'], 'From'],
    [['From: "scans@example.com" <ceo@bank.example>'], 'From'],
    [['From: scans@example.com, ceo@bank.example'], 'From'],
    [['From: Office Scanner', ' <ceo@bank.example>'], 'From'],
    [['From: scans@example.com', 'From: ceo@bank.example'], 'From'],
    [['From: undisclosed'], 'From'],
    [['From: scans@example.com', 'Sender: ceo@bank.example'], 'Sender'],
    [['From: scans@x.office.example.com'], 'From'],
  ])('refuses %j with 550 5.7.1 naming the %s header, and sends nothing upstream', async (headers, header) => {
    const { final, delivered } = await send(headers);
    expect(final).toBe(`550 5.7.1 Header ${header} address not allowed for this account`);
    expect(delivered).toBe(0);
    expect(refused).toEqual([expect.objectContaining({ reason: 'sender-not-allowed', header, account: 'printer', reply: '550 5.7.1' })]);
  });

  it('names the refused header address in the log', async () => {
    await send(['From: Someone <CEO@bank.example>']);
    expect(refused[0]).toMatchObject({ header: 'From', from: 'CEO@bank.example' });
    expect(b.logs.some((l) => l.record.event === 'refused' && l.record.header === 'From' && l.record.from === 'ceo@bank.example')).toBe(true);
  });

  it.each([
    [['From: Office Scanner <scans@example.com>']],
    [['From: SCANS@Example.com']],
    [['From: Floor 3 <floor3@office.example.com>', 'Sender: scans@example.com']],
    [['From: Scanners: scans@example.com, floor3@office.example.com;']],
    [['From: Office Scanner', '\t<scans@example.com>']],
    // No From at all: nothing in the headers claims another sender; the envelope was checked.
    [['Reply-To: ceo@bank.example']],
  ])('delivers %j (a From in the body does not count)', async (headers) => {
    const { final, delivered } = await send(headers);
    expect(final).toMatch(/^250 /);
    expect(delivered).toBe(1);
  });

  it('an account without allowFrom, and an allowNetworks device, may use any header From', async () => {
    expect((await send(['From: ceo@bank.example'], 'app')).final).toMatch(/^250 /);
    expect((await send(['From: ceo@bank.example'], null)).final).toMatch(/^250 /);
  });
});
