import { afterEach, describe, expect, it } from 'vitest';
import { createTransport } from 'nodemailer';
import { connect } from 'node:net';
import { startScriptedUpstream, type ScriptedUpstream } from '../helpers/scripted-upstream.js';
import { startScriptedServer } from '../helpers/scripted-smtp.js';
import { messageLogs, relayTo, startBridge, type RunningBridge } from '../helpers/bridge.js';
import { RawSmtpClient, printerSend, scanMessage } from '../helpers/printer.js';

const NETWORK = { allowNetworks: ['127.0.0.0/8'] };

describe('bridge delivery (createBridge)', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (cleanup.length) await cleanup.pop()!();
  });
  async function setup(
    upstreamOpts: Parameters<typeof startScriptedUpstream>[0] = {},
    bridgeOpts: Record<string, unknown> = {},
  ): Promise<{ upstream: ScriptedUpstream; bridge: RunningBridge }> {
    const upstream = await startScriptedUpstream(upstreamOpts);
    cleanup.push(() => upstream.close());
    const bridge = await startBridge({ ...NETWORK, upstream: relayTo(upstream), ...bridgeOpts });
    cleanup.push(() => bridge.close());
    return { upstream, bridge };
  }

  it('passes the device message upstream byte for byte, with the device envelope, and answers 250', async () => {
    const { upstream, bridge } = await setup();
    const message = scanMessage({ from: 'scanner@example.com', to: 'alice@example.com', messageId: '<scan-1@printer.local>' });
    const result = await printerSend(bridge.port, { from: 'scanner@example.com', to: ['alice@example.com', 'bob@example.com'], message });
    expect(result.final).toMatch(/^250 2\.0\.0 Accepted by upstream/);
    expect(upstream.accepted).toHaveLength(1);
    const got = upstream.accepted[0]!;
    expect(got.from).toBe('scanner@example.com');
    expect(got.to).toEqual(['alice@example.com', 'bob@example.com']);
    // Nothing added, removed or re-encoded: a DKIM signature over it would still verify.
    expect(got.raw.toString('utf8')).toBe(message.endsWith('\r\n') ? message : `${message}\r\n`);
    const [record] = messageLogs(bridge.logs);
    expect(record).toMatchObject({
      event: 'message',
      client: '127.0.0.1',
      from: 'scanner@example.com',
      recipients: 2,
      outcome: 'delivered',
      reply: '250 2.0.0',
      messageId: '<scan-1@printer.local>',
    });
    expect(record!.bytes).toBe(got.raw.length);
    expect(typeof record!.latencyMs).toBe('number');
    expect(record).not.toHaveProperty('account');
  });

  it('keeps the null sender of a bounce (MAIL FROM:<>)', async () => {
    const { upstream, bridge } = await setup();
    const result = await printerSend(bridge.port, {
      from: '',
      to: ['alice@example.com'],
      message: scanMessage({ from: 'mailer-daemon@example.com', to: 'alice@example.com' }),
    });
    expect(result.final).toMatch(/^250 /);
    expect(upstream.accepted[0]!.from).toBe('');
  });

  it('answers 250 only after the upstream accepted: while the upstream stalls, the device waits', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { upstream, bridge } = await setup({ decide: () => gate.then(() => undefined) });
    const client = await RawSmtpClient.connect(bridge.port);
    await client.read();
    await client.command('EHLO printer.local');
    await client.command('MAIL FROM:<scanner@example.com>');
    await client.command('RCPT TO:<alice@example.com>');
    await client.command('DATA');
    const reply = client.command(`${scanMessage({ from: 'scanner@example.com', to: 'alice@example.com' })}.`);
    const early = await Promise.race([reply, new Promise<string>((r) => setTimeout(() => r('still waiting'), 500))]);
    expect(early).toBe('still waiting');
    expect(upstream.pending).toBe(1);
    expect(upstream.accepted).toHaveLength(0);
    release();
    expect(await reply).toMatch(/^250 /);
    expect(upstream.accepted).toHaveLength(1);
    client.close();
  });

  it('upstream 421: the device gets 451 and nothing is recorded as delivered', async () => {
    const { upstream, bridge } = await setup({ decide: () => '421 4.7.0 Try again later, closing connection.' });
    const result = await printerSend(bridge.port, {
      from: 'scanner@example.com',
      to: ['alice@example.com'],
      message: scanMessage({ from: 'scanner@example.com', to: 'alice@example.com' }),
    });
    expect(result.final).toMatch(/^451 4\.4\.5 /);
    expect(upstream.accepted).toHaveLength(0);
    const [record] = messageLogs(bridge.logs);
    expect(record).toMatchObject({ outcome: 'deferred', reply: '451 4.4.5', upstreamCode: 'RATE_LIMITED' });
  });

  it('upstream unreachable: 451 4.4.1, the device retries later', async () => {
    // Port 1: nothing listens there, and no other test's ephemeral server can take it over (a
    // port just closed can be handed to the next test that binds one).
    const upstream = await startScriptedUpstream();
    const config = { ...relayTo(upstream), port: 1 };
    await upstream.close();
    const bridge = await startBridge({ ...NETWORK, upstream: config });
    cleanup.push(() => bridge.close());
    const result = await printerSend(bridge.port, {
      from: 'scanner@example.com',
      to: ['alice@example.com'],
      message: scanMessage({ from: 'scanner@example.com', to: 'alice@example.com' }),
    });
    expect(result.final).toMatch(/^451 4\.4\.1 /);
    expect(messageLogs(bridge.logs)[0]).toMatchObject({ outcome: 'deferred', upstreamCode: 'CONNECTION_FAILED' });
  });

  it('upstream connection lost after the final dot: 451 4.4.2, logged as uncertain (a duplicate beats a loss)', async () => {
    const upstream = await startScriptedServer({ tls: 'implicit', script: { drop: 'after-dot' } });
    cleanup.push(() => upstream.close());
    const bridge = await startBridge({
      ...NETWORK,
      upstream: { strategy: 'relay', host: '127.0.0.1', port: upstream.port, secure: true, smtp: { tls: { ca: [upstream.cert] } } },
    });
    cleanup.push(() => bridge.close());
    const result = await printerSend(bridge.port, {
      from: 'scanner@example.com',
      to: ['alice@example.com'],
      message: scanMessage({ from: 'scanner@example.com', to: 'alice@example.com' }),
    });
    expect(result.final).toMatch(/^451 4\.4\.2 /);
    // Sent once: an uncertain delivery is never retried by the bridge itself.
    expect(upstream.received).toHaveLength(1);
    const line = bridge.logs.find((l) => l.record.event === 'message')!;
    expect(line.record).toMatchObject({ outcome: 'deferred', upstreamCode: 'DELIVERY_UNCERTAIN', uncertain: true });
    expect(line.level).toBe('warn');
  });

  it('upstream 550 for the message: the device gets a permanent 5xx', async () => {
    const { upstream, bridge } = await setup({ decide: () => '552 5.7.0 Our system detected an illegal attachment on your message.' });
    const result = await printerSend(bridge.port, {
      from: 'scanner@example.com',
      to: ['alice@example.com'],
      message: scanMessage({ from: 'scanner@example.com', to: 'alice@example.com' }),
    });
    expect(result.final).toMatch(/^552 5\.7\.0 /);
    expect(upstream.accepted).toHaveLength(0);
    expect(messageLogs(bridge.logs)[0]).toMatchObject({ outcome: 'rejected', reply: '552 5.7.0', upstreamCode: 'MESSAGE_REJECTED' });
  });

  it('upstream refuses the only recipient (550 5.1.1): 550 5.1.1 to the device', async () => {
    const { bridge } = await setup({ rcpt: () => '550 5.1.1 The email account that you tried to reach does not exist.' });
    const result = await printerSend(bridge.port, {
      from: 'scanner@example.com',
      to: ['nobody@example.com'],
      message: scanMessage({ from: 'scanner@example.com', to: 'nobody@example.com' }),
    });
    expect(result.final).toMatch(/^550 5\.1\.1 /);
    expect(messageLogs(bridge.logs)[0]).toMatchObject({ outcome: 'rejected', upstreamCode: 'RECIPIENT_REJECTED' });
  });

  it('upstream refuses one of two recipients: never a plain 250, the device is told', async () => {
    const { upstream, bridge } = await setup({ rcpt: (a) => (a.startsWith('nobody') ? '550 5.1.1 No such user' : undefined) });
    const result = await printerSend(bridge.port, {
      from: 'scanner@example.com',
      to: ['alice@example.com', 'nobody@example.com'],
      message: scanMessage({ from: 'scanner@example.com', to: 'alice@example.com' }),
    });
    expect(result.final).toMatch(/^550 5\.1\.1 Upstream refused 1 of 2 recipients/);
    expect(upstream.accepted[0]!.to).toEqual(['alice@example.com']);
    expect(messageLogs(bridge.logs)[0]).toMatchObject({ outcome: 'rejected', rejectedRecipients: 1 });
  });

  it('refuses a message over maxMessageBytes with 552 5.3.4 and advertises SIZE', async () => {
    const { upstream, bridge } = await setup({}, { limits: { maxMessageBytes: 4096 } });
    const big = scanMessage({ from: 'scanner@example.com', to: 'alice@example.com', attachmentBytes: 8000 });
    const result = await printerSend(bridge.port, { from: 'scanner@example.com', to: ['alice@example.com'], message: big });
    expect(result.ehlo).toContain('SIZE 4096');
    expect(result.final).toMatch(/^552 5\.3\.4 Message too big/);
    expect(upstream.accepted).toHaveLength(0);
    expect(messageLogs(bridge.logs)[0]).toMatchObject({ outcome: 'rejected', reply: '552 5.3.4' });
  });

  it('refuses recipients past maxRecipients with 452 4.5.3', async () => {
    const { bridge } = await setup({}, { limits: { maxRecipients: 2 } });
    const result = await printerSend(bridge.port, { from: 'scanner@example.com', to: ['a@example.com', 'b@example.com', 'c@example.com'], message: 'x' });
    expect(result.final).toMatch(/^452 4\.5\.3 /);
  });

  it('50 devices at once: each message delivered exactly once', async () => {
    const { upstream, bridge } = await setup({}, { limits: { maxConnections: 60 } });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        printerSend(bridge.port, {
          localAddress: `127.0.0.${10 + i}`,
          from: `device${i}@example.com`,
          to: ['archive@example.com'],
          message: scanMessage({ from: `device${i}@example.com`, to: 'archive@example.com', messageId: `<m${i}@printer.local>` }),
        }),
      ),
    );
    expect(results.every((r) => r.final.startsWith('250 '))).toBe(true);
    expect(upstream.accepted).toHaveLength(50);
    const senders = upstream.accepted.map((m) => m.from).sort();
    expect(new Set(senders).size).toBe(50);
    expect(messageLogs(bridge.logs)).toHaveLength(50);
  });

  it('nodemailer as the device, over STARTTLS', async () => {
    const { upstream, bridge } = await setup();
    const device = createTransport({
      host: '127.0.0.1',
      port: bridge.port,
      secure: false,
      requireTLS: true,
      tls: { ca: [bridge.cert], servername: 'localhost' },
    });
    const info = await device.sendMail({ from: 'app@example.com', to: 'alice@example.com', subject: 'Nightly report', text: 'ok' });
    expect(info.response).toMatch(/^250 2\.0\.0 Accepted by upstream/);
    expect(upstream.accepted[0]!.raw.toString()).toContain('Subject: Nightly report');
  });
});

// close(): the SIGTERM path of `gmail-transport serve`.
describe('bridge graceful shutdown (Bridge.close)', () => {
  it('stops accepting, lets the message in flight finish with its 250, tells idle devices 421, then resolves', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const upstream = await startScriptedUpstream({ decide: () => gate.then(() => undefined) });
    const b = await startBridge({ allowNetworks: ['127.0.0.1'], upstream: relayTo(upstream) });
    try {
      const busy = await RawSmtpClient.connect(b.port);
      await busy.read();
      await busy.command('EHLO printer.local');
      await busy.command('MAIL FROM:<scans@example.com>');
      await busy.command('RCPT TO:<alice@example.com>');
      await busy.command('DATA');
      const busyReply = busy.command(`${scanMessage({ from: 'scans@example.com', to: 'alice@example.com' })}.`);
      while (upstream.pending === 0) await new Promise((r) => setTimeout(r, 10));

      const idle = await RawSmtpClient.connect(b.port);
      await idle.read();
      await idle.command('EHLO idle.local');

      let closed = false;
      const closing = b.bridge.close().then(() => (closed = true));
      await new Promise((r) => setTimeout(r, 200));
      // No new connections.
      const refused = await new Promise<string>((resolve) => {
        const s = connect(b.port, '127.0.0.1');
        s.once('connect', () => {
          s.destroy();
          resolve('connected');
        });
        s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      });
      expect(refused).toBe('ECONNREFUSED');
      // A new transaction on an open connection is turned away; the device retries later.
      expect(await idle.command('MAIL FROM:<x@example.com>')).toMatch(/^421 /);
      expect(closed).toBe(false);

      release();
      expect(await busyReply).toMatch(/^250 2\.0\.0 /);
      await closing;
      expect(upstream.accepted).toHaveLength(1);
      expect(b.bridge.addresses).toEqual([]);
      expect(b.logs.at(-1)?.record).toEqual({ event: 'closed' });
      busy.close();
      idle.close();
    } finally {
      release();
      await b.close();
      await upstream.close();
    }
  });

  it('close() with no device connected resolves at once and listen() afterwards is refused', async () => {
    const upstream = await startScriptedUpstream();
    const b = await startBridge({ allowNetworks: ['127.0.0.1'], upstream: relayTo(upstream) });
    const started = Date.now();
    await b.bridge.close();
    expect(Date.now() - started).toBeLessThan(2000);
    await expect(b.bridge.listen()).rejects.toThrow(/after close/);
    await upstream.close();
  });
});

// RFC 6152 and RFC 6531: what the device declared at MAIL FROM reaches the upstream when it offers it (issue 18).
describe('BODY=8BITMIME and SMTPUTF8 from the device', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (cleanup.length) await cleanup.pop()!();
  });
  async function send(
    mailFrom: string,
    rcpt: string,
    body: string,
    upstreamOpts: Parameters<typeof startScriptedUpstream>[0] = {},
  ): Promise<{ final: string; upstream: ScriptedUpstream }> {
    const upstream = await startScriptedUpstream(upstreamOpts);
    cleanup.push(() => upstream.close());
    const bridge = await startBridge({ ...NETWORK, upstream: relayTo(upstream) });
    cleanup.push(() => bridge.close());
    const client = await RawSmtpClient.connect(bridge.port);
    try {
      await client.read();
      expect(await client.command('EHLO printer.local')).toMatch(/8BITMIME[\s\S]*SMTPUTF8/);
      expect(await client.command(mailFrom)).toMatch(/^250 /);
      expect(await client.command(rcpt)).toMatch(/^250 /);
      expect(await client.command('DATA')).toMatch(/^354 /);
      return { final: await client.command(`${body}\r\n.`), upstream };
    } finally {
      client.close();
    }
  }
  const utf8Body = [
    'From: scanner@example.com',
    'To: alice@example.com',
    'Subject: スキャン',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    '本文です。',
  ].join('\r\n');

  it('BODY=8BITMIME is declared upstream too, and the 8-bit bytes arrive unchanged', async () => {
    const { final, upstream } = await send('MAIL FROM:<scanner@example.com> BODY=8BITMIME', 'RCPT TO:<alice@example.com>', utf8Body);
    expect(final).toMatch(/^250 /);
    expect(upstream.accepted[0]).toMatchObject({ bodyType: '8bitmime', smtpUtf8: false });
    expect(upstream.accepted[0]!.raw.equals(Buffer.from(`${utf8Body}\r\n`))).toBe(true);
  });

  it('SMTPUTF8 with internationalised addresses: SMTPUTF8 and 8BITMIME upstream, the addresses intact', async () => {
    const { final, upstream } = await send('MAIL FROM:<スキャナ@example.com> SMTPUTF8', 'RCPT TO:<受付@example.jp>', utf8Body);
    expect(final).toMatch(/^250 /);
    expect(upstream.accepted[0]).toMatchObject({ from: 'スキャナ@example.com', to: ['受付@example.jp'], bodyType: '8bitmime', smtpUtf8: true });
  });

  it('SMTPUTF8 with ASCII addresses: the UTF-8 headers go with BODY=8BITMIME', async () => {
    const { upstream } = await send('MAIL FROM:<scanner@example.com> SMTPUTF8', 'RCPT TO:<alice@example.com>', utf8Body);
    expect(upstream.accepted[0]).toMatchObject({ bodyType: '8bitmime' });
  });

  it('nothing declared stays undeclared; an upstream that does not offer 8BITMIME still gets the message', async () => {
    expect((await send('MAIL FROM:<scanner@example.com>', 'RCPT TO:<alice@example.com>', utf8Body)).upstream.accepted[0]).toMatchObject({
      bodyType: '7bit',
      smtpUtf8: false,
    });
    const { final, upstream } = await send('MAIL FROM:<scanner@example.com> BODY=8BITMIME', 'RCPT TO:<alice@example.com>', utf8Body, {
      hide: { hide8BITMIME: true },
    });
    expect(final).toMatch(/^250 /);
    expect(upstream.accepted[0]).toMatchObject({ bodyType: '7bit' });
  });
});
