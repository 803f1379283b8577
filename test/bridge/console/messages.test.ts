import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDirs } from '../../helpers/temp-dirs.js';
import { call, login, record, startConsoleBridge, writeRecords, type ConsoleBridge } from './harness.js';

const tempDir = tempDirs('console-messages-');
let b: ConsoleBridge;
let cookie: string;
const T0 = Date.parse('2026-03-02T00:00:00Z');

beforeAll(async () => {
  b = await startConsoleBridge({ baseDir: tempDir() });
  // 120 records, one a minute, every third from the fax on the network and refused.
  writeRecords(
    b.sendLogDir,
    Array.from({ length: 120 }, (_, i) =>
      record({
        time: new Date(T0 + i * 60_000).toISOString(),
        subject: `スキャン文書 ${String(i).padStart(3, '0')}`,
        ...(i % 3 === 0 ? { account: 'network:192.168.10.40', status: 'refused' as const, code: 'RECIPIENT_REJECTED' as const, to: ['old@example.org'] } : {}),
      }),
    ),
  );
  ({ cookie } = await login(b.base));
});
afterAll(() => b.stop());

const rows = (body: string) => [...body.matchAll(/<tr class="(delivered|refused|deferred|uncertain)">/g)].length;
const subjects = (body: string) => [...body.matchAll(/スキャン文書 (\d{3})/g)].map((m) => Number(m[1]));

describe('messages page: paging and filters (issue 22)', () => {
  it('50 per page, newest first, with links to older and newer pages', async () => {
    const first = await call(`${b.base}/messages`, { headers: { cookie } });
    expect(rows(first.body)).toBe(50);
    expect(subjects(first.body).slice(0, 2)).toEqual([119, 118]);
    expect(first.body).toContain('href="/messages?page=2" rel="next"');
    expect(first.body).not.toContain('rel="prev"');
    const last = await call(`${b.base}/messages?page=3`, { headers: { cookie } });
    expect(rows(last.body)).toBe(20);
    expect(subjects(last.body).at(-1)).toBe(0);
    expect(last.body).toContain('href="/messages?page=2" rel="prev"');
    expect(last.body).not.toContain('rel="next"');
  });

  it('filters by account, status and recipient combine, and the pager keeps them', async () => {
    const fax = await call(`${b.base}/messages?account=${encodeURIComponent('network:192.168.10.40')}&status=refused`, { headers: { cookie } });
    expect(rows(fax.body)).toBe(40);
    expect(subjects(fax.body).every((n) => n % 3 === 0)).toBe(true);
    const byDomain = await call(`${b.base}/messages?to=${encodeURIComponent('@example.org')}`, { headers: { cookie } });
    expect(rows(byDomain.body)).toBe(40);
    const delivered = await call(`${b.base}/messages?status=delivered`, { headers: { cookie } });
    expect(rows(delivered.body)).toBe(50);
    expect(delivered.body).toContain('href="/messages?status=delivered&amp;page=2" rel="next"');
    expect(rows((await call(`${b.base}/messages?status=delivered&page=2`, { headers: { cookie } })).body)).toBe(30);
  });

  it('filters by date: a day with no record shows none; a bad date is a 400 naming the field', async () => {
    expect(rows((await call(`${b.base}/messages?since=2026-03-10`, { headers: { cookie } })).body)).toBe(0);
    const bad = await call(`${b.base}/messages?since=2026-02-31`, { headers: { cookie } });
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('<code>since</code>');
  });

  it('the CSV download has every matching record, not one page', async () => {
    const csv = await call(`${b.base}/messages.csv?status=delivered`, { headers: { cookie } });
    expect(csv.status).toBe(200);
    expect(csv.headers['content-disposition']).toMatch(/^attachment; filename="send-log-/);
    expect(csv.body.trimEnd().split('\r\n')).toHaveLength(81);
  });
});
