import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { printerSend, scanMessage } from '../../helpers/printer.js';
import { tempDirs } from '../../helpers/temp-dirs.js';
import { CSV_COLUMNS } from '../../../src/send-log/format.js';
import { ADMIN_PASSWORD, PRINTER_PASSWORD, record, startConsoleBridge, writeRecords, type ConsoleBridge } from './harness.js';

/** Debian's chromium (.ci/run installs it); playwright-core drives it and downloads no browser. */
const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) process.stderr.write(`browser tests skipped: ${CHROMIUM} is missing (apt-get install chromium)\n`);

/** `GT_SCREENSHOTS=1` writes the guide's screenshots; otherwise they go to a temp folder. */
const tempDir = tempDirs('console-browser-');
const SHOTS = process.env.GT_SCREENSHOTS === '1' ? join(import.meta.dirname, '../../../docs/images/console') : tempDir();
const XSS_SUBJECT = '<script>window.__xss = "subject"</script>';
const XSS_TO = '"><img src=x onerror="window.__xss=\'to\'">@example.com';
const XSS_ACCOUNT = '<img src=x onerror="window.__xss=\'account\'">';

let browser: Browser;
let b: ConsoleBridge;

beforeAll(async () => {
  if (!hasChromium) return;
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  b = await startConsoleBridge({
    baseDir: tempDir(),
    upstream: { decide: (m) => (m.to.includes('gone@example.co.jp') ? '550 5.1.1 The email account that you tried to reach does not exist.' : undefined) },
  });
  // Earlier days of the log, as they read in an office.
  const day = (daysAgo: number, hour: number) =>
    new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 11) + `${String(hour).padStart(2, '0')}:12:05.000Z`;
  writeRecords(b.sendLogDir, [
    record({ time: day(2, 0), subject: '見積書_2025-03.pdf', to: ['keiri@example.co.jp'], account: 'scanner-2f' }),
    record({
      time: day(2, 1),
      subject: 'スキャン文書',
      to: ['tanaka@example.co.jp'],
      account: 'network:192.168.10.40',
      client: '192.168.10.40',
      from: 'fax@example.co.jp',
    }),
    record({
      time: day(1, 2),
      subject: 'スキャン文書',
      to: ['suzuki@example.co.jp'],
      status: 'deferred',
      code: 'TEMPORARY_FAILURE',
      response: '421 4.7.0 Try again later, closing connection.',
    }),
  ]);
});
afterAll(async () => {
  await browser?.close();
  await b?.stop();
});

async function loggedIn(locale: 'en-US' | 'ja-JP'): Promise<{ context: BrowserContext; page: Page; dialogs: string[] }> {
  const context = await browser.newContext({ locale, timezoneId: 'Asia/Tokyo', viewport: { width: 1280, height: 860 }, acceptDownloads: true });
  const page = await context.newPage();
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await page.goto(`${b.base}/`);
  expect(new URL(page.url()).pathname).toBe('/login');
  await page.screenshot({ path: join(SHOTS, `login-${locale.slice(0, 2)}.png`) });
  await page.fill('input[name=user]', 'admin');
  await page.fill('input[name=password]', ADMIN_PASSWORD);
  await page.click('form.login button[type=submit]');
  await page.waitForURL(`${b.base}/`);
  return { context, page, dialogs };
}

const sendScan = (to: string, subject: string, opts: { localAddress?: string; pass?: string } = {}) =>
  printerSend(b.port, {
    startTls: { ca: b.cert },
    user: 'scanner-2f',
    pass: opts.pass ?? PRINTER_PASSWORD,
    from: 'scans@example.com',
    to: [to],
    message: scanMessage({ from: 'scans@example.com', to, subject: `=?UTF-8?B?${Buffer.from(subject).toString('base64')}?=` }),
    ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
  });

describe.skipIf(!hasChromium)('admin console in a real browser (issue 22)', () => {
  it('English: log in, see the message a device just sent, filter, download the CSV', async () => {
    mkdirSync(SHOTS, { recursive: true });
    expect((await sendScan('sato@example.co.jp', 'スキャン文書 3F複合機')).final).toMatch(/^250 /);
    expect((await sendScan('gone@example.co.jp', '請求書スキャン')).final).toMatch(/^550 /);
    const { context, page, dialogs } = await loggedIn('en-US');
    await expect(page.locator('h1').textContent()).resolves.toBe('Status');
    expect(await page.locator('table.facts').textContent()).toContain('scanner-2f (127.0.0.1)');
    expect(await page.locator('table.facts').textContent()).toContain('RECIPIENT_REJECTED');
    await page.screenshot({ path: join(SHOTS, 'status-en.png'), fullPage: true });

    await page.click('nav >> text=Messages');
    await page.waitForURL(`${b.base}/messages`);
    const first = page.locator('table.messages tbody tr').first();
    expect(await first.textContent()).toContain('gone@example.co.jp');
    expect(await page.locator('table.messages').textContent()).toContain('スキャン文書 3F複合機');
    await page.screenshot({ path: join(SHOTS, 'messages-en.png'), fullPage: true });

    await page.selectOption('select[name=status]', 'refused');
    await page.click('form.filters button[type=submit]');
    await page.waitForURL(/status=refused/);
    const statuses = await page.locator('table.messages tbody .badge').allTextContents();
    expect(statuses.length).toBeGreaterThan(0);
    expect(new Set(statuses)).toEqual(new Set(['refused']));

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('text=Download CSV')]);
    expect(download.suggestedFilename()).toMatch(/^send-log-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = readFileSync((await download.path())!, 'utf8');
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe(`\uFEFF${CSV_COLUMNS.join(',')}`);
    expect(lines.slice(1).every((line) => line.includes(',refused,'))).toBe(true);
    expect(csv).toContain('gone@example.co.jp');
    expect(dialogs).toEqual([]);
    await context.close();
  });

  it("English: send a test message and see the upstream's reply", async () => {
    const { context, page } = await loggedIn('en-US');
    await page.click('nav >> text=Test mail');
    // The relay upstream has no mailbox of its own to default to.
    await page.fill('input[name=from]', 'scans@example.com');
    await page.fill('input[name=to]', 'tanaka@example.co.jp');
    const before = b.upstream.accepted.length;
    await page.click('form.stack button[type=submit]');
    await page.waitForSelector('.notice');
    expect(await page.locator('.notice').textContent()).toMatch(/The upstream accepted the message\.\s*Upstream reply: 250 /);
    expect(b.upstream.accepted.length).toBe(before + 1);
    await page.screenshot({ path: join(SHOTS, 'test-en.png'), fullPage: true });
    await context.close();
  });

  it('English: unlock an address locked out after failed logins; the device logs in again', async () => {
    for (let i = 0; i < 3; i++)
      expect((await sendScan('sato@example.co.jp', 'x', { localAddress: '127.0.0.7', pass: `FAKE-WRONG-${i}` })).final).toMatch(/^535 /);
    expect((await sendScan('sato@example.co.jp', 'x', { localAddress: '127.0.0.7' })).final).toMatch(/^421 /);
    const { context, page } = await loggedIn('en-US');
    await page.click('nav >> text=Devices');
    expect(await page.locator('main').textContent()).toContain('scanner-2f');
    const row = page.locator('tr', { hasText: '127.0.0.7' });
    expect(await row.count()).toBe(1);
    await page.screenshot({ path: join(SHOTS, 'devices-en.png'), fullPage: true });
    await row.locator('button').click();
    await page.waitForSelector('.notice.ok');
    expect(await page.locator('.notice.ok').textContent()).toBe('127.0.0.7 is unlocked.');
    expect(await page.locator('tr', { hasText: '127.0.0.7' }).count()).toBe(0);
    expect((await sendScan('sato@example.co.jp', '解除後のスキャン', { localAddress: '127.0.0.7' })).final).toMatch(/^250 /);
    await context.close();
  });

  it("Japanese from the browser's language, with a switch to English", async () => {
    for (let i = 0; i < 3; i++) await sendScan('sato@example.co.jp', 'x', { localAddress: '127.0.0.8', pass: `FAKE-WRONG-${i}` });
    const { context, page, dialogs } = await loggedIn('ja-JP');
    expect(await page.locator('html').getAttribute('lang')).toBe('ja');
    expect(await page.locator('h1').textContent()).toBe('状態');
    expect(await page.locator('nav').textContent()).toContain('送信ログ');
    await page.screenshot({ path: join(SHOTS, 'status-ja.png'), fullPage: true });
    await page.click('nav >> text=送信ログ');
    expect(await page.locator('table.messages thead').textContent()).toContain('件名');
    expect(await page.locator('table.messages').textContent()).toContain('送信済み');
    await page.screenshot({ path: join(SHOTS, 'messages-ja.png'), fullPage: true });
    await page.click('nav >> text=機器');
    expect(await page.locator('main h2').first().textContent()).toBe('機器のアカウント');
    await page.screenshot({ path: join(SHOTS, 'devices-ja.png'), fullPage: true });
    await page.click('nav >> text=テスト送信');
    await page.fill('input[name=from]', 'scans@example.com');
    await page.fill('input[name=to]', 'gone@example.co.jp');
    await page.click('form.stack button[type=submit]');
    await page.waitForSelector('.notice.error');
    expect(await page.locator('.notice.error').textContent()).toContain('送信経路がメールを受け付けませんでした');
    await page.screenshot({ path: join(SHOTS, 'test-ja.png'), fullPage: true });
    // The switch keeps the choice for the next pages.
    await page.click('header >> text=English');
    expect(await page.locator('h1').textContent()).toBe('Send a test message');
    await page.click('nav >> text=Status');
    expect(await page.locator('h1').textContent()).toBe('Status');
    expect(dialogs).toEqual([]);
    await context.close();
  });

  it('XSS payloads in subject, address and account render as text and run nothing', async () => {
    writeRecords(b.sendLogDir, [
      record({
        time: new Date().toISOString(),
        subject: XSS_SUBJECT,
        to: [XSS_TO],
        account: XSS_ACCOUNT,
        status: 'refused',
        code: 'RECIPIENT_REJECTED',
        response: '550 5.1.1 <script>alert(1)</script>',
      }),
    ]);
    const { context, page, dialogs } = await loggedIn('en-US');
    await page.goto(`${b.base}/messages?status=refused`);
    const table = page.locator('table.messages');
    expect(await table.textContent()).toContain(XSS_SUBJECT);
    expect(await table.textContent()).toContain(XSS_TO);
    expect(await table.textContent()).toContain(XSS_ACCOUNT);
    expect(await page.locator('table.messages img, table.messages script').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: string }).__xss)).toBeUndefined();
    expect(dialogs).toEqual([]);
    await context.close();
  });
});
