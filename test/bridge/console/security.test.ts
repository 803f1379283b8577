import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspect } from 'node:util';
import { connect } from 'node:net';
import { tempDirs } from '../../helpers/temp-dirs.js';
import { ConsoleSessions, SESSION_LIMITS } from '../../../src/bridge/console/sessions.js';
import { ADMIN_PASSWORD, call, login, PRINTER_PASSWORD, record, setCookies, startConsoleBridge, writeRecords, type ConsoleBridge } from './harness.js';

const tempDir = tempDirs('console-security-');
let b: ConsoleBridge;
const XSS_SUBJECT = '<script>alert("subject")</script>';
const XSS_ATTR = '"><img src=x onerror=alert(1)>';

beforeAll(async () => {
  b = await startConsoleBridge({ baseDir: tempDir() });
  const now = new Date().toISOString();
  writeRecords(b.sendLogDir, [
    record({
      time: now,
      subject: XSS_SUBJECT,
      to: [`${XSS_ATTR}@example.com`],
      account: `<b>${XSS_ATTR}</b>`,
      response: `550 ${XSS_SUBJECT}`,
      status: 'refused',
      code: 'RECIPIENT_REJECTED',
    }),
  ]);
});
afterAll(() => b.stop());

const form = (cookie: string, fields: Record<string, string>, headers: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, ...headers },
  body: new URLSearchParams(fields).toString(),
});

describe('console security (issue 22)', () => {
  it('pages need a login: GET redirects to /login, POST is refused', async () => {
    for (const path of ['/', '/messages', '/messages.csv', '/devices', '/test']) {
      const answer = await call(`${b.base}${path}`);
      expect(answer.status).toBe(303);
      expect(answer.headers.location).toBe('/login');
    }
    expect((await call(`${b.base}/devices/unlock`, form('', { address: '127.0.0.1' }))).status).toBe(403);
    expect((await call(`${b.base}/`, { headers: { cookie: 'gt_session=forged-session-id' } })).status).toBe(303);
  });

  it('every answer carries a CSP without inline script, and no-store, nosniff, DENY framing', async () => {
    for (const path of ['/login', '/static/console.css', '/static/nothing', '/api/status']) {
      const answer = await call(`${b.base}${path}`);
      expect(answer.headers['content-security-policy']).toBe(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      );
      expect(answer.headers['x-content-type-options']).toBe('nosniff');
      expect(answer.headers['x-frame-options']).toBe('DENY');
    }
    const page = await call(`${b.base}/login`);
    expect(page.body).not.toMatch(/<script>|<script [^>]*>[^<]|\son\w+=/);
    expect(page.body).toContain('<script src="/static/console.js" defer></script>');
  });

  it('session cookie: HttpOnly, SameSite=Strict, no Secure over loopback HTTP; the login form has its own CSRF cookie', async () => {
    const formPage = await call(`${b.base}/login`);
    const loginCookie = setCookies(formPage).get('gt_login')!;
    expect(loginCookie.raw).toMatch(/; HttpOnly/);
    expect(loginCookie.raw).toMatch(/; SameSite=Strict/);
    const token = /name="_csrf" value="([^"]+)"/.exec(formPage.body)![1]!;
    expect(token).toBe(loginCookie.value);
    const answer = await call(`${b.base}/login`, form(`gt_login=${token}`, { _csrf: token, user: 'admin', password: ADMIN_PASSWORD }, { origin: b.base }));
    expect(answer.status).toBe(303);
    const session = setCookies(answer).get('gt_session')!;
    expect(session.raw).toMatch(/^gt_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/);
  });

  it('login CSRF: a login without the form cookie, or from another origin, is refused', async () => {
    const formPage = await call(`${b.base}/login`);
    const token = /name="_csrf" value="([^"]+)"/.exec(formPage.body)![1]!;
    const fields = { _csrf: token, user: 'admin', password: ADMIN_PASSWORD };
    expect((await call(`${b.base}/login`, form('', fields))).status).toBe(403);
    expect((await call(`${b.base}/login`, form(`gt_login=${token}`, { ...fields, _csrf: 'x'.repeat(43) }))).status).toBe(403);
    expect((await call(`${b.base}/login`, form(`gt_login=${token}`, fields, { origin: 'http://evil.example' }))).status).toBe(403);
    expect((await call(`${b.base}/login`, form(`gt_login=${token}`, fields, { 'sec-fetch-site': 'cross-site' }))).status).toBe(403);
  });

  it('CSRF: posts without the token, with a wrong one, or from another origin are refused and change nothing', async () => {
    const { cookie, csrf } = await login(b.base);
    const sent = b.upstream.accepted.length;
    for (const attempt of [
      form(cookie, { to: 'victim@example.com', from: 'scans@example.com' }),
      form(cookie, { to: 'victim@example.com', from: 'scans@example.com', _csrf: csrf.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) }),
      form(cookie, { to: 'victim@example.com', from: 'scans@example.com', _csrf: csrf }, { origin: 'http://evil.example' }),
      form(cookie, { to: 'victim@example.com', from: 'scans@example.com', _csrf: csrf }, { 'sec-fetch-site': 'cross-site' }),
      { ...form(cookie, {}), headers: { cookie, 'content-type': 'text/plain' }, body: `_csrf=${csrf}&to=victim@example.com` },
    ]) {
      const answer = await call(`${b.base}/test`, attempt);
      expect(answer.status === 403 || answer.status === 415).toBe(true);
    }
    expect(b.upstream.accepted.length).toBe(sent);
    // With the token, from the page's own origin, it goes.
    const ok = await call(`${b.base}/test`, form(cookie, { to: 'victim@example.com', from: 'scans@example.com', _csrf: csrf }, { origin: b.base }));
    expect(ok.status).toBe(200);
    expect(b.upstream.accepted.length).toBe(sent + 1);
  });

  it('logout ends the session: its cookie no longer opens a page', async () => {
    const { cookie, csrf } = await login(b.base);
    expect((await call(`${b.base}/`, { headers: { cookie } })).status).toBe(200);
    expect((await call(`${b.base}/logout`, form(cookie, { _csrf: csrf }))).status).toBe(303);
    expect((await call(`${b.base}/`, { headers: { cookie } })).status).toBe(303);
  });

  it('Host header tricks (DNS rebinding) are refused; addresses and localhost are accepted', async () => {
    for (const host of ['evil.example', 'evil.example:80', '127.0.0.1.evil.example', 'localhost.evil.example', '127.0.0.1:80@evil.example']) {
      expect((await call(`${b.base}/login`, { headers: { host } })).status).toBe(400);
    }
    const port = new URL(b.base).port;
    // No Host at all (HTTP/1.0 allows leaving it out).
    const bare = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.end('GET /login HTTP/1.0\r\n\r\n'));
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(bare).toMatch(/^HTTP\/1\.1 400 /);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`])
      expect((await call(`${b.base}/login`, { headers: { host } })).status).toBe(200);
  });

  it('static files come from a fixed table: traversal finds nothing', async () => {
    expect((await call(`${b.base}/static/console.css`)).status).toBe(200);
    expect((await call(`${b.base}/static/console.js`)).headers['content-type']).toBe('text/javascript; charset=utf-8');
    for (const path of [
      '/static/../../../../etc/passwd',
      '/static/%2e%2e/%2e%2e/etc/passwd',
      '/static/..%2f..%2fpackage.json',
      '/static/console.css/..',
      '/static//etc/passwd',
      '/static/console.css%00.js',
    ]) {
      const answer = await call(`${b.base}${path}`);
      expect([303, 404]).toContain(answer.status);
      expect(answer.body).not.toMatch(/root:|"name": "gmail-transport"/);
    }
  });

  it('XSS: subject, addresses, account names and replies render as text', async () => {
    const { cookie } = await login(b.base);
    const page = await call(`${b.base}/messages`, { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(page.body).not.toContain('<script>alert');
    expect(page.body).not.toContain('<img src=x');
    expect(page.body).not.toContain('<b>');
    expect(page.body).toContain('&lt;script&gt;alert(&quot;subject&quot;)&lt;/script&gt;');
    expect(page.body).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;@example.com');
    // Filters echoed back into the form are escaped too.
    const echoed = await call(`${b.base}/messages?account=${encodeURIComponent(XSS_ATTR)}&to=${encodeURIComponent(XSS_SUBJECT)}`, { headers: { cookie } });
    expect(echoed.body).not.toContain('<img src=x');
    expect(echoed.body).not.toContain('<script>alert');
  });

  it('no secret in any page or log line', async () => {
    const { cookie } = await login(b.base);
    const pages = await Promise.all(['/', '/messages', '/devices', '/test', '/messages.csv'].map((p) => call(`${b.base}${p}`, { headers: { cookie } })));
    const text = pages.map((p) => p.body).join('\n') + b.logs.map((l) => l.line).join('\n');
    for (const secret of [ADMIN_PASSWORD, PRINTER_PASSWORD, b.adminHash, b.printerHash]) expect(text).not.toContain(secret);
  });
});

describe('console form login lockout (issue 22)', () => {
  it('after repeated failures the address is locked out (429), the right password too, and the log says so without the guesses', async () => {
    const local = await startConsoleBridge({ baseDir: tempDir() });
    try {
      const attempt = async (password: string) => {
        const page = await call(`${local.base}/login`);
        const token = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
        return call(`${local.base}/login`, form(`gt_login=${token}`, { _csrf: token, user: 'admin', password }));
      };
      expect((await attempt('FAKE-GUESS-a')).status).toBe(401);
      expect((await attempt('FAKE-GUESS-b')).status).toBe(401);
      const third = await attempt('FAKE-GUESS-c');
      expect(third.status).toBe(429);
      const locked = await attempt(ADMIN_PASSWORD);
      expect(locked.status).toBe(429);
      expect(locked.body).toContain('Too many failed logins');
      expect(local.logs.filter((l) => l.record.event === 'admin-lockout')).toHaveLength(1);
      expect(local.logs.map((l) => l.line).join('\n')).not.toContain('FAKE-GUESS');
    } finally {
      await local.stop();
    }
  });
});

describe('console sessions (issue 22)', () => {
  it('expire after the idle time and after the maximum age, with an injected clock', () => {
    let now = 1_000_000;
    const sessions = new ConsoleSessions(() => now);
    const s = sessions.create('admin');
    now += SESSION_LIMITS.idleMs - 1;
    expect(sessions.get(s.id)?.user).toBe('admin');
    now += SESSION_LIMITS.idleMs + 1;
    expect(sessions.get(s.id)).toBeUndefined();
    const long = sessions.create('admin');
    for (let t = 0; t < SESSION_LIMITS.maxMs; t += SESSION_LIMITS.idleMs / 2) {
      now += SESSION_LIMITS.idleMs / 2;
      sessions.get(long.id);
    }
    now += 1;
    expect(sessions.get(long.id)).toBeUndefined();
    expect(inspect(s)).not.toContain(ADMIN_PASSWORD);
  });
});
