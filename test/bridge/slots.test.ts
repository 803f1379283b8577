import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resolveBridgeConfig } from '../../src/bridge/config.js';
import { isGmailTransportError } from '../../src/index.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../helpers/scripted-upstream.js';
import { fastHash, relayTo, startBridge, type RunningBridge } from '../helpers/bridge.js';
import { RawSmtpClient, printerSend, scanMessage } from '../helpers/printer.js';

const PASSWORD = 'FAKE-SLOTS-PW-61b0';
const message = scanMessage({ from: 'scans@example.com', to: 'alice@example.com' });

describe('connection slots (issue 18)', () => {
  let upstream: ScriptedUpstream;
  let hash: string;
  const running: RunningBridge[] = [];
  const opened: RawSmtpClient[] = [];
  beforeAll(async () => {
    upstream = await startScriptedUpstream();
    hash = await fastHash(PASSWORD);
  });
  afterEach(async () => {
    while (opened.length) opened.pop()!.close();
    while (running.length) await running.pop()!.close();
  });
  afterAll(() => upstream.close());

  async function bridge(opts: Record<string, unknown> = {}): Promise<RunningBridge> {
    const b = await startBridge({ accounts: [{ user: 'printer', passwordHash: hash }], allowNetworks: ['127.0.0.1'], upstream: relayTo(upstream), ...opts });
    running.push(b);
    return b;
  }
  async function connect(port: number, localAddress: string): Promise<{ client: RawSmtpClient; greeting: string }> {
    const client = await RawSmtpClient.connect(port, { localAddress });
    opened.push(client);
    return { client, greeting: await client.read() };
  }
  const printer = (b: RunningBridge, localAddress: string) =>
    printerSend(b.port, {
      localAddress,
      startTls: { ca: b.cert },
      user: 'printer',
      pass: PASSWORD,
      from: 'scans@example.com',
      to: ['alice@example.com'],
      message,
    });
  const closed = (client: RawSmtpClient) =>
    new Promise<void>((resolve) => {
      const poll = () => (client.closed ? resolve() : setTimeout(poll, 10));
      poll();
    });

  it('limits.maxConnectionsPerAddress defaults to half of maxConnections and may not exceed it', () => {
    const base = { allowNetworks: ['127.0.0.1'], upstream: { strategy: 'relay', host: '127.0.0.1', port: 25 } };
    expect(resolveBridgeConfig(base).limits).toMatchObject({
      maxConnections: 20,
      maxConnectionsPerAddress: 10,
      loginTimeoutSeconds: 30,
      maxCommandsBeforeLogin: 20,
    });
    expect(resolveBridgeConfig({ ...base, limits: { maxConnections: 7 } }).limits.maxConnectionsPerAddress).toBe(3);
    expect(resolveBridgeConfig({ ...base, limits: { maxConnections: 1 } }).limits.maxConnectionsPerAddress).toBe(1);
    expect(resolveBridgeConfig({ ...base, limits: { maxConnections: 8, maxConnectionsPerAddress: 8 } }).limits.maxConnectionsPerAddress).toBe(8);
    let err: unknown;
    try {
      resolveBridgeConfig({ ...base, limits: { maxConnections: 8, maxConnectionsPerAddress: 9, loginTimeoutSeconds: 0, maxCommandsBeforeLogin: 1 } });
    } catch (e) {
      err = e;
    }
    expect(isGmailTransportError(err) && err.issues?.map((i) => i.path).sort()).toEqual([
      'limits.loginTimeoutSeconds',
      'limits.maxCommandsBeforeLogin',
      'limits.maxConnectionsPerAddress',
    ]);
  });

  it('one address cannot take every slot: 20 idle connections from a stranger get 10, and a printer elsewhere still sends', async () => {
    const b = await bridge();
    const greetings = (await Promise.all(Array.from({ length: 20 }, () => connect(b.port, '127.0.0.2')))).map((c) => c.greeting);
    expect(greetings.filter((g) => g.startsWith('220 '))).toHaveLength(10);
    expect(greetings.filter((g) => g === '421 4.7.0 Too many connections from your address, try again later')).toHaveLength(10);
    expect((await printer(b, '127.0.0.3')).final).toMatch(/^250 /);
    const refusals = b.logs.filter((l) => l.record.reason === 'too-many-connections');
    // Summarised: the first few in full, the rest in one line at close.
    expect(refusals.length).toBeLessThanOrEqual(5);
    await b.close();
    expect(b.logs.find((l) => l.record.reason === 'too-many-connections' && l.record.repeated !== undefined)?.record).toMatchObject({
      client: '127.0.0.2',
      repeated: 10 - refusals.length,
    });
  });

  it('a connection that has not logged in is closed at the deadline whatever it sends; logged-in and allowNetworks devices are not', async () => {
    const b = await bridge({ limits: { loginTimeoutSeconds: 1 } });
    const stranger = (await connect(b.port, '127.0.0.2')).client;
    const allowed = (await connect(b.port, '127.0.0.1')).client;
    await allowed.command('EHLO scanner.local');
    const loggedIn = (await connect(b.port, '127.0.0.3')).client;
    await loggedIn.command('EHLO printer.local');
    await loggedIn.startTls(b.cert);
    await loggedIn.command('EHLO printer.local');
    expect(await loggedIn.command(`AUTH PLAIN ${Buffer.from(`\0printer\0${PASSWORD}`).toString('base64')}`)).toMatch(/^235 /);
    const started = Date.now();
    const strangerReplies: string[] = [];
    while (Date.now() - started < 1500) {
      for (const client of [allowed, loggedIn]) expect(await client.command('NOOP')).toMatch(/^250 /);
      if (!stranger.closed) strangerReplies.push(await stranger.command('NOOP'));
      await new Promise((r) => setTimeout(r, 100));
    }
    await closed(stranger);
    // The 421 came on its own, between two NOOPs: whatever is still unread ends with it.
    strangerReplies.push(await stranger.read());
    expect(strangerReplies.filter((r) => r !== '' && r !== '250 OK')).toEqual(['421 4.7.0 No login in time, closing connection']);
    expect(strangerReplies.filter((r) => r === '250 OK').length).toBeGreaterThanOrEqual(2);
    for (const client of [allowed, loggedIn]) {
      expect(await client.command('MAIL FROM:<scans@example.com>')).toMatch(/^250 /);
      expect(await client.command('RCPT TO:<alice@example.com>')).toMatch(/^250 /);
      expect(await client.command('DATA')).toMatch(/^354 /);
      expect(await client.command(`${message}\r\n.`)).toMatch(/^250 /);
    }
    expect(b.logs.find((l) => l.record.reason === 'login-timeout')?.record).toMatchObject({ client: '127.0.0.2', reply: '421 4.7.0' });
  });

  it('a connection that has not logged in may send maxCommandsBeforeLogin commands; the next one closes it', async () => {
    const b = await bridge({ limits: { maxCommandsBeforeLogin: 8 } });
    const stranger = (await connect(b.port, '127.0.0.2')).client;
    const replies: string[] = [];
    for (let i = 0; i < 10 && !stranger.closed; i++) replies.push(await stranger.command(i % 2 ? 'NOOP' : 'RSET'));
    expect(replies.slice(0, 8).every((r) => r.startsWith('250 '))).toBe(true);
    expect(replies[8]).toBe('421 4.7.0 Too many commands before login, closing connection');
    await closed(stranger);
    // A printer's login fits (EHLO, STARTTLS, EHLO, AUTH LOGIN and its two lines), and after
    // the login the count stops.
    const result = await printerSend(b.port, {
      localAddress: '127.0.0.3',
      startTls: { ca: b.cert },
      user: 'printer',
      pass: PASSWORD,
      from: 'scans@example.com',
      to: Array.from({ length: 12 }, (_, i) => `r${i}@example.com`),
      message,
    });
    expect(result.final).toMatch(/^250 /);
    // allowNetworks devices never log in: no cap.
    const allowed = (await connect(b.port, '127.0.0.1')).client;
    for (let i = 0; i < 12; i++) expect(await allowed.command('NOOP')).toMatch(/^250 /);
    expect(b.logs.find((l) => l.record.reason === 'too-many-commands')?.record).toMatchObject({ client: '127.0.0.2', reply: '421 4.7.0' });
  });

  it('a thousand refused commands from one address write a few lines and one summary, not a thousand', async () => {
    const b = await startBridge({ allowNetworks: ['10.0.0.0/8'], upstream: relayTo(upstream), limits: { maxCommandsBeforeLogin: 10_000 } });
    running.push(b);
    const events: string[] = [];
    b.bridge.on('refused', (r) => events.push(r.reason));
    const { client } = await connect(b.port, '127.0.0.2');
    await client.command('EHLO stranger.local');
    // Pipelined, as fast as the stranger can.
    client.write('MAIL FROM:<x@example.com>\r\n'.repeat(1000));
    const replies: string[] = [];
    for (let i = 0; i < 1000; i++) replies.push(await client.read());
    expect(replies.every((r) => r === '530 5.7.0 Authentication required')).toBe(true);
    expect(events).toHaveLength(1000);
    const lines = () => b.logs.filter((l) => l.record.event === 'refused');
    expect(lines()).toHaveLength(5);
    expect(lines().every((l) => l.level === 'warn' && l.record.reason === 'network-not-allowed')).toBe(true);
    await b.close();
    expect(lines()).toHaveLength(6);
    expect(lines()[5]).toMatchObject({
      level: 'warn',
      msg: 'gmail-transport bridge: refused 995 more times (network-not-allowed) within 60 s',
      record: { event: 'refused', client: '127.0.0.2', reason: 'network-not-allowed', reply: '530 5.7.0', repeated: 995 },
    });
  });
});
