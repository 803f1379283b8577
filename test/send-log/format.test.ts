import { describe, expect, it } from 'vitest';
import { csvRow, displayWidth, table } from '../../src/send-log/format.js';
import type { SendRecord } from '../../src/index.js';

const base: SendRecord = {
  id: 'r1',
  time: '2026-03-02T00:14:03.120Z',
  strategy: 'oauth2',
  from: 'office@example.com',
  to: ['a@example.com'],
  status: 'delivered',
  latencyMs: 812,
  attempts: 1,
};

describe('send-log output formats', () => {
  it('CSV: quotes what needs quoting, and a cell that starts like a formula cannot run in Excel', () => {
    const row = csvRow({
      ...base,
      to: ['a@example.com', 'b@example.com'],
      subject: '=HYPERLINK("http://evil.test","見積書")',
      response: '550 5.1.1 "No such user", bye',
    });
    const cells = row.slice(0, -2);
    expect(row.endsWith('\r\n')).toBe(true);
    expect(cells).toContain(`"'=HYPERLINK(""http://evil.test"",""見積書"")"`);
    expect(cells).toContain('"550 5.1.1 ""No such user"", bye"');
    expect(cells).toContain('a@example.com; b@example.com');
    expect(csvRow({ ...base, subject: '+1 555 0100', account: '@printer' })).toContain(",'+1 555 0100,'@printer,");
  });

  it('table: columns line up by terminal width with Japanese subjects; long cells are cut', () => {
    const text = table([
      { ...base, subject: '会議資料' },
      {
        ...base,
        id: 'r2',
        status: 'refused',
        code: 'RECIPIENT_REJECTED',
        subject: 'plain',
        to: ['a-very-long-local-part-of-an-address@subdomain.example.com', 'b@example.com'],
      },
    ]);
    const lines = text.trimEnd().split('\n');
    const subjectAt = lines.map((line) => displayWidth(line.slice(0, line.search(/会議資料|plain|SUBJECT/))));
    expect(new Set(subjectAt).size).toBe(1);
    expect(lines[2]).toContain('a-very-long-local-part-of-an-address@su…');
    expect(displayWidth('会議 ab')).toBe(7);
  });
});
