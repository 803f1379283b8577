import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { printerSend, scanMessage } from '../../helpers/printer.js';
import { tempDirs } from '../../helpers/temp-dirs.js';
import { CSV_COLUMNS } from '../../../src/send-log/format.js';
import { ADMIN_PASSWORD, basic, call, PRINTER_PASSWORD, startConsoleBridge, type ConsoleBridge } from './harness.js';

const tempDir = tempDirs('console-api-');
let b: ConsoleBridge;
const auth = () => ({ authorization: basic('admin', ADMIN_PASSWORD) });

beforeAll(async () => {
  b = await startConsoleBridge({
    baseDir: tempDir(),
    upstream: { decide: (m) => (m.to.includes('gone@example.com') ? '550 5.1.1 The email account that you tried to reach does not exist' : undefined) },
    admin: { metricsNetworks: ['127.0.0.9'] },
  });
  // One message from the printer, logged in, and one refused upstream.
  const send = (to: string, subject: string) =>
    printerSend(b.port, {
      startTls: { ca: b.cert },
      user: 'scanner-2f',
      pass: PRINTER_PASSWORD,
      from: 'scans@example.com',
      to: [to],
      message: scanMessage({ from: 'scans@example.com', to, subject }),
    });
  expect((await send('sato@example.co.jp', 'Scan 0001')).final).toMatch(/^250 /);
  expect((await send('gone@example.com', 'Scan 0002')).final).toMatch(/^550 /);
});
afterAll(() => b.stop());

describe('console HTTP API (issue 22)', () => {
  it('answers 401 with a Basic challenge without credentials, and with wrong ones', async () => {
    for (const headers of [
      {},
      { authorization: basic('admin', 'FAKE-WRONG-PW-1') },
      { authorization: basic('nobody', ADMIN_PASSWORD) },
      { authorization: 'Bearer x' },
    ] as Record<string, string>[]) {
      const answer = await call(`${b.base}/api/status`, { headers });
      expect(answer.status).toBe(401);
      expect(answer.headers['www-authenticate']).toMatch(/^Basic realm="gmail-transport bridge"/);
    }
  });

  it('GET /api/status: upstream, listeners, last delivery and last failure with its hint', async () => {
    const answer = await call(`${b.base}/api/status`, { headers: auth() });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    const status = JSON.parse(answer.body);
    expect(status).toMatchObject({
      upstream: { strategy: 'relay' },
      listening: [{ host: '127.0.0.1', port: b.port, tls: 'starttls' }],
      lastDelivery: { account: 'scanner-2f', client: '127.0.0.1', recipients: 1 },
      lastFailure: { code: 'RECIPIENT_REJECTED', account: 'scanner-2f', hint: expect.any(String) },
      token: null,
      lockouts: [],
    });
    expect(Date.parse(status.runningSince)).toBeLessThanOrEqual(Date.now());
    const ja = JSON.parse((await call(`${b.base}/api/status?lang=ja`, { headers: auth() })).body);
    expect(ja.lastFailure.hint).not.toBe(status.lastFailure.hint);
    expect(ja.lastFailure.hint).toMatch(/[\u3040-\u30ff\u4e00-\u9fff]/);
  });

  it("GET /api/messages: JSON with filters, CSV with the log command's header", async () => {
    const all = JSON.parse((await call(`${b.base}/api/messages`, { headers: auth() })).body);
    expect(all.records.map((r: { to: string[] }) => r.to[0])).toEqual(['gone@example.com', 'sato@example.co.jp']);
    expect(all.truncated).toBe(false);
    const refused = JSON.parse((await call(`${b.base}/api/messages?status=refused&account=scanner-2f`, { headers: auth() })).body);
    expect(refused.records).toHaveLength(1);
    expect(refused.records[0]).toMatchObject({ status: 'refused', subject: 'Scan 0002', account: 'scanner-2f' });
    const byTo = JSON.parse((await call(`${b.base}/api/messages?to=${encodeURIComponent('@example.co.jp')}`, { headers: auth() })).body);
    expect(byTo.records.map((r: { subject: string }) => r.subject)).toEqual(['Scan 0001']);
    const tomorrow = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    expect(JSON.parse((await call(`${b.base}/api/messages?since=${tomorrow}`, { headers: auth() })).body).records).toEqual([]);

    const csv = await call(`${b.base}/api/messages?format=csv&status=delivered`, { headers: auth() });
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(csv.headers['content-disposition']).toMatch(/^attachment; filename="send-log-\d{4}-\d{2}-\d{2}\.csv"$/);
    const lines = csv.body.split('\r\n');
    expect(lines[0]).toBe(`\uFEFF${CSV_COLUMNS.join(',')}`);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain('sato@example.co.jp');
  });

  it('GET /api/messages: a bad filter is a 400 naming the field', async () => {
    const answer = await call(`${b.base}/api/messages?status=lost&since=yesterday`, { headers: auth() });
    expect(answer.status).toBe(400);
    const paths = JSON.parse(answer.body).issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['status', 'since']));
    expect((await call(`${b.base}/api/messages?format=xml`, { headers: auth() })).status).toBe(400);
  });

  it('POST /api/test sends through the running upstream and reports its reply; refusals come back with code and hint', async () => {
    const before = b.upstream.accepted.length;
    const ok = await call(`${b.base}/api/test`, {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: JSON.stringify({ to: 'tanaka@example.co.jp', from: 'scans@example.com' }),
    });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ ok: true, response: expect.stringMatching(/^250 /) });
    expect(b.upstream.accepted.length).toBe(before + 1);
    expect(b.upstream.accepted.at(-1)!.to).toEqual(['tanaka@example.co.jp']);
    // Recorded in the send log under the admin's name.
    const log = JSON.parse((await call(`${b.base}/api/messages?account=admin:admin`, { headers: auth() })).body);
    expect(log.records[0]).toMatchObject({ to: ['tanaka@example.co.jp'], status: 'delivered' });

    const refused = await call(`${b.base}/api/test`, {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: JSON.stringify({ to: 'gone@example.com', from: 'scans@example.com' }),
    });
    expect(refused.status).toBe(502);
    expect(JSON.parse(refused.body)).toMatchObject({ ok: false, code: 'RECIPIENT_REJECTED', hint: expect.any(String), message: expect.any(String) });
    // The status shows the failed test message as the last failure, under the admin's name.
    const status = JSON.parse((await call(`${b.base}/api/status`, { headers: auth() })).body);
    expect(status.lastFailure).toMatchObject({ code: 'RECIPIENT_REJECTED', account: 'admin:admin', hint: expect.any(String) });
  });

  it('POST /api/test refuses a form body (415), a bad address and a list (400)', async () => {
    const form = await call(`${b.base}/api/test`, {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/x-www-form-urlencoded' },
      body: 'to=a@example.com',
    });
    expect(form.status).toBe(415);
    for (const to of ['not-an-address', 'a@example.com, b@example.com', '"x" <a@example.com>']) {
      const answer = await call(`${b.base}/api/test`, {
        method: 'POST',
        headers: { ...auth(), 'content-type': 'application/json' },
        body: JSON.stringify({ to, from: 'scans@example.com' }),
      });
      expect(answer.status).toBe(400);
    }
  });

  it('GET /metrics: Prometheus text for admins and for metricsNetworks only', async () => {
    expect((await call(`${b.base}/metrics`)).status).toBe(401);
    const answer = await call(`${b.base}/metrics`, { headers: auth() });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(answer.body).toMatch(/^gmail_transport_bridge_messages_total\{outcome="delivered",code=""\} 1$/m);
    expect(answer.body).toMatch(/^gmail_transport_bridge_messages_total\{outcome="rejected",code="RECIPIENT_REJECTED"\} 1$/m);
    expect(answer.body).toMatch(/^gmail_transport_bridge_upstream_latency_seconds_count 2$/m);
    expect(answer.body).toMatch(/^# TYPE gmail_transport_bridge_upstream_latency_seconds histogram$/m);
    expect(answer.body).toMatch(/^gmail_transport_bridge_lockouts 0$/m);
    // From an address of metricsNetworks, no login is needed.
    const { request } = await import('node:http');
    const fromListed = await new Promise<number>((resolve, reject) => {
      const url = new URL(`${b.base}/metrics`);
      request({ host: url.hostname, port: url.port, path: '/metrics', localAddress: '127.0.0.9' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    expect(fromListed).toBe(200);
  });

  it('no secret in any API answer or log line', async () => {
    const answers = await Promise.all(
      ['/api/status', '/api/messages', '/api/messages?format=csv', '/metrics'].map((p) => call(`${b.base}${p}`, { headers: auth() })),
    );
    const text = answers.map((a) => a.body).join('\n') + b.logs.map((l) => l.line).join('\n');
    for (const secret of [ADMIN_PASSWORD, PRINTER_PASSWORD, b.adminHash, b.printerHash, b.adminHash.split('$').at(-1)!]) expect(text).not.toContain(secret);
  });
});

describe('console API lockout (issue 22)', () => {
  it('locks an address out after repeated wrong passwords: 429 with Retry-After, even for the right one', async () => {
    const local = await startConsoleBridge({ baseDir: tempDir() });
    try {
      for (let i = 0; i < 2; i++)
        expect((await call(`${local.base}/api/status`, { headers: { authorization: basic('admin', `FAKE-GUESS-${i}`) } })).status).toBe(401);
      // The third failure (limits.authFailuresBeforeLockout) starts the lockout.
      expect((await call(`${local.base}/api/status`, { headers: { authorization: basic('admin', 'FAKE-GUESS-2') } })).status).toBe(429);
      const locked = await call(`${local.base}/api/status`, { headers: { authorization: basic('admin', ADMIN_PASSWORD) } });
      expect(locked.status).toBe(429);
      expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
      expect(local.logs.some((l) => l.record.event === 'admin-login-failed' && l.record.admin === 'admin')).toBe(true);
      expect(local.logs.map((l) => l.line).join('\n')).not.toContain('FAKE-GUESS');
    } finally {
      await local.stop();
    }
  });
});
