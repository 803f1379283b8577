import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTransport } from 'nodemailer';
import { startScriptedUpstream, type ScriptedUpstream } from '../helpers/scripted-upstream.js';
import { fastHash, messageLogs, relayTo, startBridge, type CapturedLog, type RunningBridge } from '../helpers/bridge.js';
import { RawSmtpClient, printerSend, scanMessage } from '../helpers/printer.js';

const PRINTER_PASSWORD = 'FAKE-PRINTER-PW-51c9';
const OTHER_PASSWORD = 'FAKE-WRONG-PW-0d2e';
const UPSTREAM_APP_PASSWORD = 'qwer tyui opas dfgh';
const message = scanMessage({ from: 'scans@example.com', to: 'alice@example.com' });

describe('bridge logins and access (createBridge)', () => {
  let upstream: ScriptedUpstream;
  let printerHash: string;
  const allLogs: CapturedLog[] = [];
  const running: RunningBridge[] = [];
  beforeAll(async () => {
    upstream = await startScriptedUpstream();
    printerHash = await fastHash(PRINTER_PASSWORD);
  });
  afterEach(async () => {
    vi.useRealTimers();
    while (running.length) {
      const b = running.pop()!;
      allLogs.push(...b.logs);
      await b.close();
    }
  });
  afterAll(async () => {
    await upstream.close();
    // No secret in any log line of any bridge in this file: device passwords (right and wrong),
    // the upstream's app password.
    expect(allLogs.length).toBeGreaterThan(0);
    for (const log of allLogs) {
      for (const secret of [PRINTER_PASSWORD, OTHER_PASSWORD, UPSTREAM_APP_PASSWORD, UPSTREAM_APP_PASSWORD.replace(/ /g, '')]) {
        expect(log.line).not.toContain(secret);
        expect(log.msg ?? '').not.toContain(secret);
      }
    }
  });

  async function bridgeWith(opts: Record<string, unknown> = {}): Promise<RunningBridge> {
    const b = await startBridge({
      accounts: [{ user: 'printer', passwordHash: printerHash, allowFrom: ['scans@example.com', '@office.example.com'] }],
      upstream: {
        strategy: 'app-password',
        user: 'scans@example.com',
        appPassword: UPSTREAM_APP_PASSWORD,
        smtp: { host: '127.0.0.1', port: upstream.port, secure: true, tls: { ca: [upstream.cert] } },
      },
      ...opts,
    });
    running.push(b);
    return b;
  }

  it('hides AUTH in a plaintext session and offers it after STARTTLS', async () => {
    const { port, cert } = await bridgeWith();
    const client = await RawSmtpClient.connect(port);
    await client.read();
    const plainEhlo = await client.command('EHLO printer.local');
    expect(plainEhlo).toContain('STARTTLS');
    expect(plainEhlo).not.toMatch(/AUTH/);
    expect(await client.command('AUTH LOGIN')).toMatch(/^5\d\d /);
    await client.startTls(cert);
    const secureEhlo = await client.command('EHLO printer.local');
    expect(secureEhlo).toMatch(/AUTH PLAIN LOGIN/);
    expect(secureEhlo).not.toContain('STARTTLS');
    client.close();
  });

  it('an old printer: STARTTLS, AUTH LOGIN, then the message', async () => {
    const b = await bridgeWith();
    const before = upstream.accepted.length;
    const result = await printerSend(b.port, {
      startTls: { ca: b.cert },
      user: 'printer',
      pass: PRINTER_PASSWORD,
      from: 'scans@example.com',
      to: ['alice@example.com'],
      message,
    });
    expect(result.replies.some((r) => r.startsWith('235'))).toBe(true);
    expect(result.final).toMatch(/^250 /);
    expect(upstream.accepted).toHaveLength(before + 1);
    // The upstream got the bridge's own credentials, never the device's.
    expect(upstream.accepted.at(-1)!.auth).toMatchObject({ username: 'scans@example.com', password: UPSTREAM_APP_PASSWORD.replace(/ /g, '') });
    expect(messageLogs(b.logs)[0]).toMatchObject({ account: 'printer', from: 'scans@example.com', outcome: 'delivered' });
  });

  it('the implicit-TLS port offers AUTH at once', async () => {
    const b = await bridgeWith({ listen: { tlsPort: 0 } });
    expect(b.bridge.addresses.map((a) => a.tls).sort()).toEqual(['implicit', 'starttls']);
    const result = await printerSend(b.tlsPort!, {
      implicitTls: { ca: b.cert },
      user: 'printer',
      pass: PRINTER_PASSWORD,
      from: 'scans@example.com',
      to: ['alice@example.com'],
      message,
    });
    expect(result.final).toMatch(/^250 /);
  });

  it('an unauthenticated device outside allowNetworks cannot send: no open relay', async () => {
    const b = await bridgeWith();
    const before = upstream.accepted.length;
    const clear = await printerSend(b.port, { from: 'scans@example.com', to: ['victim@example.org'], message });
    expect(clear.final).toMatch(/^530 5\.7\.0 Must issue a STARTTLS command first/);
    const overTls = await printerSend(b.port, { startTls: { ca: b.cert }, from: 'scans@example.com', to: ['victim@example.org'], message });
    expect(overTls.final).toMatch(/^530 5\.7\.0 Authentication required/);
    expect(upstream.accepted).toHaveLength(before);
    expect(b.logs.filter((l) => l.record.event === 'refused').map((l) => l.record.reason)).toEqual(['tls-required', 'network-not-allowed']);
  });

  it('a wrong password and an unknown user get the same 535 5.7.8', async () => {
    const b = await bridgeWith();
    const wrong = await printerSend(b.port, {
      startTls: { ca: b.cert },
      user: 'printer',
      pass: OTHER_PASSWORD,
      from: 'scans@example.com',
      to: ['a@example.com'],
      message,
    });
    // A password typed into the user name field must not end up in a log line.
    const unknown = await printerSend(b.port, {
      startTls: { ca: b.cert },
      user: OTHER_PASSWORD,
      pass: PRINTER_PASSWORD,
      from: 'scans@example.com',
      to: ['a@example.com'],
      message,
    });
    expect(wrong.final).toBe('535 5.7.8 Authentication credentials invalid');
    expect(unknown.final).toBe(wrong.final);
    const refusals = b.logs.filter((l) => l.record.reason === 'auth-failed').map((l) => l.record);
    expect(refusals).toEqual([
      { event: 'refused', client: '127.0.0.1', account: 'printer', reason: 'auth-failed', reply: '535 5.7.8' },
      { event: 'refused', client: '127.0.0.1', reason: 'auth-failed', reply: '535 5.7.8' },
    ]);
  });

  it('locks the address out after authFailuresBeforeLockout failures, until lockoutMinutes pass', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-03-02T09:00:00Z'));
    const b = await bridgeWith({ limits: { authFailuresBeforeLockout: 3, lockoutMinutes: 10 } });
    const attempt = (pass: string) =>
      printerSend(b.port, { startTls: { ca: b.cert }, user: 'printer', pass, from: 'scans@example.com', to: ['a@example.com'], message });
    for (let i = 0; i < 3; i++) expect((await attempt(OTHER_PASSWORD)).final).toMatch(/^535 /);
    // Locked out: refused at the greeting, even with the right password.
    const locked = await attempt(PRINTER_PASSWORD);
    expect(locked.final).toMatch(/^421 4\.7\.0 Too many failed logins/);
    expect(b.logs.find((l) => l.record.event === 'lockout')?.record).toMatchObject({
      client: '127.0.0.1',
      failures: 3,
      until: Date.parse('2026-03-02T09:10:00Z'),
    });
    vi.setSystemTime(new Date('2026-03-02T09:10:01Z'));
    expect((await attempt(PRINTER_PASSWORD)).final).toMatch(/^250 /);
  });

  it('refuses a sender outside allowFrom with 553 5.7.1; addresses and @domains in it pass', async () => {
    const b = await bridgeWith();
    const send = (from: string) =>
      printerSend(b.port, { startTls: { ca: b.cert }, user: 'printer', pass: PRINTER_PASSWORD, from, to: ['alice@example.com'], message });
    expect((await send('ceo@example.com')).final).toBe('553 5.7.1 Sender address not allowed for this account');
    expect((await send('SCANS@example.com')).final).toMatch(/^250 /);
    expect((await send('floor3@office.example.com')).final).toMatch(/^250 /);
    expect((await send('x@evil-office.example.com')).final).toMatch(/^553 /);
    expect(b.logs.find((l) => l.record.reason === 'sender-not-allowed')?.record).toMatchObject({
      account: 'printer',
      from: 'ceo@example.com',
      reply: '553 5.7.1',
    });
  });

  it('allowNetworks: a listed network sends without AUTH, an unlisted one is refused', async () => {
    const listed = await startBridge({ allowNetworks: ['10.20.0.0/16', '127.0.0.1'], upstream: relayTo(upstream) });
    running.push(listed);
    expect((await printerSend(listed.port, { from: 'nas@example.com', to: ['ops@example.com'], message })).final).toMatch(/^250 /);
    const unlisted = await startBridge({ allowNetworks: ['10.20.0.0/16'], upstream: relayTo(upstream) });
    running.push(unlisted);
    expect((await printerSend(unlisted.port, { from: 'nas@example.com', to: ['ops@example.com'], message })).final).toMatch(/^530 5\.7\.0 /);
  });

  it('allowNetworks with AUTH too: an unlisted device may still log in', async () => {
    const b = await bridgeWith({ allowNetworks: ['10.20.0.0/16'] });
    expect(
      (
        await printerSend(b.port, {
          startTls: { ca: b.cert },
          user: 'printer',
          pass: PRINTER_PASSWORD,
          from: 'scans@example.com',
          to: ['a@example.com'],
          message,
        })
      ).final,
    ).toMatch(/^250 /);
  });

  it('allowNetworks over IPv6, and IPv4 clients of a dual-stack listener match their IPv4 network', async () => {
    const v6 = await startBridge({ allowNetworks: ['::1/128'], upstream: relayTo(upstream), listen: { host: '::1' } });
    running.push(v6);
    const client = await RawSmtpClient.connect(v6.port, { host: '::1' });
    await client.read();
    await client.command('EHLO printer.local');
    expect(await client.command('MAIL FROM:<nas@example.com>')).toMatch(/^250 /);
    client.close();
    const dual = await startBridge({ allowNetworks: ['127.0.0.0/8'], upstream: relayTo(upstream), listen: { host: '::' } });
    running.push(dual);
    expect((await printerSend(dual.port, { from: 'nas@example.com', to: ['ops@example.com'], message })).final).toMatch(/^250 /);
    expect(messageLogs(dual.logs)[0]).toMatchObject({ client: '127.0.0.1' });
  });

  it('allowInsecureAuth: AUTH in clear for devices without TLS, logged loudly at start', async () => {
    const b = await bridgeWith({ tls: undefined, allowInsecureAuth: true });
    const result = await printerSend(b.port, { user: 'printer', pass: PRINTER_PASSWORD, from: 'scans@example.com', to: ['a@example.com'], message });
    expect(result.ehlo).toMatch(/AUTH PLAIN LOGIN/);
    expect(result.ehlo).not.toContain('STARTTLS');
    expect(result.final).toMatch(/^250 /);
    expect(b.logs.find((l) => l.record.event === 'insecure-auth')).toMatchObject({ level: 'warn', msg: expect.stringMatching(/allowInsecureAuth is ON/) });
  });

  it('nodemailer as the device with AUTH PLAIN over STARTTLS', async () => {
    const b = await bridgeWith();
    const device = createTransport({
      host: '127.0.0.1',
      port: b.port,
      secure: false,
      requireTLS: true,
      auth: { user: 'printer', pass: PRINTER_PASSWORD },
      tls: { ca: [b.cert], servername: 'localhost' },
    });
    await expect(device.sendMail({ from: 'scans@example.com', to: 'alice@example.com', subject: 's', text: 't' })).resolves.toMatchObject({
      response: expect.stringMatching(/^250 /),
    });
  });
});
