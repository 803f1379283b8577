import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync, statSync, existsSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { resolveBridgeConfig } from '../../../src/bridge/config.js';
import { tempDirs } from '../../helpers/temp-dirs.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../../helpers/scripted-upstream.js';
import { fastHash, startBridge, type RunningBridge } from '../../helpers/bridge.js';
import { printerSend, scanMessage } from '../../helpers/printer.js';
import { ADMIN_PASSWORD, basic, call, login } from './harness.js';

const CLIENT_ID = '2222-console.apps.googleusercontent.com';
const CLIENT_SECRET = 'FAKE-CLIENT-SECRET-22c0';
const OLD_REFRESH = 'FAKE-OLD-REFRESH-22a1';
const NEW_REFRESH = 'FAKE-NEW-REFRESH-22b7';
const CODE = 'FAKE-AUTH-CODE-22d3';
const SEAL_KEY = 'a'.repeat(64);
const REVOKED_REFRESH = 'FAKE-REVOKED-REFRESH-22e9';

let consent: URL | undefined;
let account = 'scans@example.com';
const refreshGrants: string[] = [];
const mock = setupServer(
  http.post('https://oauth2.googleapis.com/token', async ({ request }) => {
    const form = new URLSearchParams(await request.text());
    if (form.get('client_secret') !== CLIENT_SECRET) return HttpResponse.json({ error: 'invalid_client' }, { status: 401 });
    if (form.get('grant_type') === 'refresh_token') {
      refreshGrants.push(form.get('refresh_token') ?? '');
      // A revoked token, as Google answers it.
      if (form.get('refresh_token') === REVOKED_REFRESH)
        return HttpResponse.json({ error: 'invalid_grant', error_description: 'Token has been expired or revoked.' }, { status: 400 });
      return HttpResponse.json({ access_token: `ya29.FAKE-ACCESS-${refreshGrants.length}`, expires_in: 3599, token_type: 'Bearer' });
    }
    const challenge = consent?.searchParams.get('code_challenge');
    const verifier = form.get('code_verifier') ?? '';
    if (
      createHash('sha256').update(verifier).digest('base64url') !== challenge ||
      form.get('code') !== CODE ||
      form.get('redirect_uri') !== consent?.searchParams.get('redirect_uri')
    ) {
      return HttpResponse.json({ error: 'invalid_grant', error_description: 'Bad Request' }, { status: 400 });
    }
    return HttpResponse.json({
      access_token: 'ya29.FAKE-ACCESS-consent',
      expires_in: 3599,
      refresh_token: NEW_REFRESH,
      scope: 'https://mail.google.com/',
      token_type: 'Bearer',
    });
  }),
  http.get('https://gmail.googleapis.com/gmail/v1/users/me/profile', () =>
    HttpResponse.json({ emailAddress: account, messagesTotal: 1, threadsTotal: 1, historyId: '1' }),
  ),
);

const tempDir = tempDirs('console-google-');
let upstream: ScriptedUpstream;
let b: RunningBridge;
let base: string;
let baseDir: string;
let options: Parameters<typeof startBridge>[0];

beforeAll(async () => {
  // The console and Google's redirect to the loopback listener are real requests.
  mock.listen({ onUnhandledRequest: (request, print) => (new URL(request.url).hostname === '127.0.0.1' ? undefined : print.error()) });
  upstream = await startScriptedUpstream();
  baseDir = tempDir();
  options = {
    allowNetworks: ['127.0.0.1'],
    baseDir,
    upstream: {
      strategy: 'oauth2',
      user: 'scans@example.com',
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      refreshToken: OLD_REFRESH,
      tokenEncryptionKey: SEAL_KEY,
      smtp: { host: '127.0.0.1', port: upstream.port, secure: true, tls: { ca: [upstream.cert] } },
    },
    admin: {
      listen: { host: '127.0.0.1', port: 0 },
      users: [{ user: 'admin', passwordHash: await fastHash(ADMIN_PASSWORD) }],
      refreshTokenFile: 'refresh-token',
    },
  };
  b = await startBridge(options);
  base = b.bridge.admin!.url.replace(/\/$/, '');
});
afterEach(() => {
  account = 'scans@example.com';
});
afterAll(async () => {
  mock.close();
  await b.close();
  await upstream.close();
});

const post = (cookie: string, path: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
  call(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, ...headers },
    body: new URLSearchParams(fields).toString(),
  });

/** Starts Connect Google and returns the consent URL the page links to. */
async function start(cookie: string, csrf: string, headers: Record<string, string> = {}): Promise<URL> {
  expect((await post(cookie, '/google/start', { _csrf: csrf }, headers)).status).toBe(303);
  const page = await call(`${base}/google`, { headers: { cookie } });
  const href = /<a href="([^"]+)" target="_blank"/.exec(page.body)![1]!.replace(/&amp;/g, '&');
  consent = new URL(href);
  return consent;
}

const sendTest = () =>
  call(`${base}/api/test`, {
    method: 'POST',
    headers: { authorization: basic('admin', ADMIN_PASSWORD), 'content-type': 'application/json' },
    body: JSON.stringify({ to: 'sato@example.co.jp' }),
  });

describe('Connect Google from the console (issue 22)', () => {
  it("browser on the bridge machine: Google's redirect reaches the bridge, the token is kept sealed (0600) and used at once", async () => {
    const { cookie, csrf } = await login(base);
    expect((await sendTest()).status).toBe(200);
    expect(refreshGrants.at(-1)).toBe(OLD_REFRESH);
    const url = await start(cookie, csrf);
    expect(url.origin + url.pathname).toBe('https://accounts.google.com/o/oauth2/v2/auth');
    expect(url.searchParams.get('login_hint')).toBe('scans@example.com');
    const redirect = new URL(url.searchParams.get('redirect_uri')!);
    expect(redirect.hostname).toBe('127.0.0.1');
    // Google sends the browser back to the loopback address with the code.
    const tab = await call(`${redirect.href}?state=${url.searchParams.get('state')}&code=${CODE}&scope=https://mail.google.com/`);
    expect(tab.status).toBe(200);
    expect(tab.body).toContain('Access granted');
    const page = await call(`${base}/google`, { headers: { cookie } });
    expect(page.body).toContain('Connected: scans@example.com');

    const file = join(baseDir, 'refresh-token');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const kept = readFileSync(file, 'utf8');
    expect(kept).toMatch(/^gt1\./);
    expect(kept).not.toContain(NEW_REFRESH);
    // Swapped in without a restart: the next message fetches its token with the new one.
    expect((await sendTest()).status).toBe(200);
    expect(refreshGrants.at(-1)).toBe(NEW_REFRESH);
    // And a restart reads it back.
    expect((resolveBridgeConfig(options).upstream as { refreshToken: string }).refreshToken).toBe(NEW_REFRESH);
    const everything = page.body + tab.body + b.logs.map((l) => l.line).join('\n');
    for (const secret of [CODE, CLIENT_SECRET, NEW_REFRESH, OLD_REFRESH]) expect(everything).not.toContain(secret);
  });

  it("browser on another PC: the pasted address finishes the sign-in; another sign-in's address is refused", async () => {
    rmSync(join(baseDir, 'refresh-token'));
    const { cookie, csrf } = await login(base);
    const url = await start(cookie, csrf);
    const redirect = url.searchParams.get('redirect_uri')!;
    const stranger = await post(cookie, '/google/paste', { _csrf: csrf, address: `${redirect}?state=someone-elses-state-0000000000000&code=${CODE}` });
    expect(stranger.status).toBe(400);
    expect(stranger.body).toContain('does not belong to the sign-in started here');
    expect(existsSync(join(baseDir, 'refresh-token'))).toBe(false);
    const pasted = await post(cookie, '/google/paste', {
      _csrf: csrf,
      address: `${redirect}?state=${url.searchParams.get('state')}&code=${CODE}&scope=https%3A%2F%2Fmail.google.com%2F`,
    });
    expect(pasted.status).toBe(303);
    expect((await call(`${base}/google`, { headers: { cookie } })).body).toContain('Connected: scans@example.com');
    expect(existsSync(join(baseDir, 'refresh-token'))).toBe(true);
    // Without the form's token, nothing starts.
    expect((await post(cookie, '/google/start', {})).status).toBe(403);
  });

  it("another account than the upstream's user is refused and nothing is kept", async () => {
    rmSync(join(baseDir, 'refresh-token'), { force: true });
    account = 'someone@example.com';
    const { cookie, csrf } = await login(base);
    const url = await start(cookie, csrf);
    const pasted = await post(cookie, '/google/paste', {
      _csrf: csrf,
      address: `${url.searchParams.get('redirect_uri')}?state=${url.searchParams.get('state')}&code=${CODE}`,
    });
    expect(pasted.status).toBe(303);
    const page = await call(`${base}/google`, { headers: { cookie } });
    expect(page.body).toContain('ACCOUNT_MISMATCH');
    // The console's own advice, not the CLI's (which speaks of --user and running a command again).
    expect(page.body).toContain('upstream user. To withdraw the access');
    expect(page.body).not.toContain('--user');
    expect(existsSync(join(baseDir, 'refresh-token'))).toBe(false);
  });

  it("in Japanese: the tab Google's redirect lands on and the console's advice speak the language of the admin who started", async () => {
    rmSync(join(baseDir, 'refresh-token'), { force: true });
    account = 'someone@example.com';
    const { cookie, csrf } = await login(base);
    const url = await start(cookie, csrf, { 'accept-language': 'ja-JP,ja;q=0.9' });
    const tab = await call(`${url.searchParams.get('redirect_uri')}?state=${url.searchParams.get('state')}&code=${CODE}&scope=https://mail.google.com/`);
    expect(tab.status).toBe(400);
    expect(tab.body).toContain('サインインは受け付けられませんでした');
    const ja = await call(`${base}/google`, { headers: { cookie, 'accept-language': 'ja' } });
    expect(ja.body).toContain('ACCOUNT_MISMATCH');
    expect(ja.body).toContain('ブリッジの送信経路のユーザーでサインインし直してください');
    const en = await call(`${base}/google`, { headers: { cookie, 'accept-language': 'en' } });
    expect(en.body).toContain('upstream user. To withdraw the access');
    expect(existsSync(join(baseDir, 'refresh-token'))).toBe(false);
  });
});

describe('token state on the status page and in metrics (issue 22)', () => {
  it('shows when the access token expires and when it was fetched, and counts the fetch', async () => {
    expect((await sendTest()).status).toBe(200);
    const status = JSON.parse((await call(`${base}/api/status`, { headers: { authorization: basic('admin', ADMIN_PASSWORD) } })).body);
    expect(status.upstream).toEqual({ strategy: 'oauth2', user: 'scans@example.com' });
    expect(Date.parse(status.token.validUntil)).toBeGreaterThan(Date.now() + 50 * 60_000);
    expect(Date.parse(status.token.lastRefresh)).toBeLessThanOrEqual(Date.now());
    expect(status.token.invalidGrant).toBe(false);
    const metrics = (await call(`${base}/metrics`, { headers: { authorization: basic('admin', ADMIN_PASSWORD) } })).body;
    expect(Number(/^gmail_transport_bridge_token_refreshes_total (\d+)$/m.exec(metrics)![1])).toBeGreaterThanOrEqual(1);
  });

  it("after invalid_grant, the status page says what to do, in the page's language", async () => {
    const revoked = await startBridge({
      ...options,
      baseDir: tempDir(),
      upstream: { ...(options.upstream as object), refreshToken: REVOKED_REFRESH } as never,
      admin: { ...options.admin!, refreshTokenFile: undefined },
    });
    try {
      const result = await printerSend(revoked.port, {
        from: 'scans@example.com',
        to: ['sato@example.co.jp'],
        message: scanMessage({ from: 'scans@example.com', to: 'sato@example.co.jp' }),
      });
      expect(result.final).toMatch(/^4/);
      const url = revoked.bridge.admin!.url;
      const status = JSON.parse((await call(`${url}api/status`, { headers: { authorization: basic('admin', ADMIN_PASSWORD) } })).body);
      expect(status.lastFailure.code).toBe('OAUTH_INVALID_GRANT');
      expect(status.token).toMatchObject({ invalidGrant: true, hint: expect.stringMatching(/refresh token/i) });
      const { cookie } = await login(url.replace(/\/$/, ''));
      const page = await call(`${url}?lang=ja`, { headers: { cookie } });
      expect(page.body).toContain('Google がリフレッシュトークンを拒否しました');
      expect(page.body).not.toContain(REVOKED_REFRESH);
    } finally {
      await revoked.close();
    }
  });
});

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = process.env.GT_SCREENSHOTS === '1' ? join(import.meta.dirname, '../../../docs/images/console') : tempDir();

describe.skipIf(!existsSync(CHROMIUM))('Connect Google in a real browser (issue 22)', () => {
  it('English and Japanese: start, then the steps and the field for the pasted address', async () => {
    mkdirSync(SHOTS, { recursive: true });
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      for (const locale of ['en-US', 'ja-JP']) {
        const context = await browser.newContext({ locale, viewport: { width: 1280, height: 760 } });
        const page = await context.newPage();
        await page.goto(`${base}/login`);
        await page.fill('input[name=user]', 'admin');
        await page.fill('input[name=password]', ADMIN_PASSWORD);
        await page.click('form.login button[type=submit]');
        await page.waitForURL(`${base}/`);
        await page.click('nav li:last-child a');
        await page.click('form[action="/google/start"] button');
        await page.waitForSelector('ol.steps');
        const link = await page.locator('ol.steps a').getAttribute('href');
        expect(new URL(link!).searchParams.get('client_id')).toBe(CLIENT_ID);
        expect(await page.locator('input[name=address]').count()).toBe(1);
        await page.screenshot({ path: join(SHOTS, `google-${locale.slice(0, 2)}.png`), fullPage: true });
        await context.close();
      }
    } finally {
      await browser.close();
    }
  });
});
