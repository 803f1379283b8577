import type { SendRecord } from '../core/send-log.js';

/** The columns of the CSV export: every field of a record, in the record's order. */
export const CSV_COLUMNS = [
  'id',
  'time',
  'strategy',
  'route',
  'user',
  'from',
  'to',
  'rejected',
  'messageId',
  'size',
  'status',
  'code',
  'response',
  'upstreamId',
  'latencyMs',
  'attempts',
  'subject',
  'account',
  'client',
] as const satisfies readonly (keyof SendRecord)[];

/** Excel reads a CSV file as the system's legacy code page (Shift_JIS in Japan) unless it starts with a BOM. */
export const UTF8_BOM = '\uFEFF';

/** The header row, with the byte-order mark in front. */
export function csvHeader(): string {
  return `${UTF8_BOM}${CSV_COLUMNS.join(',')}\r\n`;
}

/** One record as a CSV row (RFC 4180: CRLF, fields with `"`, `,` or line breaks quoted). */
export function csvRow(record: SendRecord): string {
  return `${CSV_COLUMNS.map((column) => csvCell(record[column])).join(',')}\r\n`;
}

function csvCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'number') return String(value);
  let text = Array.isArray(value) ? value.join('; ') : String(value);
  // A cell that starts like a formula is run by Excel when the file is opened (OWASP: CSV
  // injection); subjects and addresses come from outside, so such cells get a leading quote.
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One record as a JSON line. */
export function jsonLine(record: SendRecord): string {
  return `${JSON.stringify(record)}\n`;
}

const MAX_CELL = 40;

/**
 * Records as a table for a terminal, newest first as given. Columns for the bridge's account
 * and for subjects appear only when a record has them. Times are local.
 */
export function table(records: readonly SendRecord[]): string {
  const hasAccount = records.some((r) => r.account !== undefined);
  const hasSubject = records.some((r) => r.subject !== undefined);
  const header = ['TIME', 'STATUS', 'TO', 'FROM', 'CODE', 'MS', 'TRIES', ...(hasAccount ? ['ACCOUNT'] : []), ...(hasSubject ? ['SUBJECT'] : [])];
  const rows = records.map((r) => [
    localTime(r.time),
    r.status,
    recipients(r),
    r.from === '' ? '<>' : r.from,
    r.code ?? '-',
    String(r.latencyMs),
    r.route !== undefined ? `${r.attempts} (route ${r.route})` : String(r.attempts),
    ...(hasAccount ? [r.account ?? '-'] : []),
    ...(hasSubject ? [r.subject ?? ''] : []),
  ]);
  const cells = [header, ...rows].map((row) => row.map((cell) => truncate(cell.replace(/\s+/g, ' '), MAX_CELL)));
  const widths = header.map((_, column) => Math.max(...cells.map((row) => displayWidth(row[column]!))));
  return (
    cells
      .map((row) =>
        row
          .map((cell, column) => (column === row.length - 1 ? cell : pad(cell, widths[column]!)))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

function recipients(record: SendRecord): string {
  if (record.to.length === 0) return '-';
  const more = record.to.length > 1 ? ` (+${record.to.length - 1})` : '';
  return `${record.to[0]}${more}`;
}

/** An ISO time as `YYYY-MM-DD HH:MM:SS` in this machine's time zone (the ISO text itself when it is not a time). */
export function localTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const two = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
}

function pad(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - displayWidth(text)));
}

function truncate(text: string, max: number): string {
  if (displayWidth(text) <= max) return text;
  let out = '';
  let width = 0;
  for (const char of text) {
    const w = charWidth(char);
    if (width + w > max - 1) break;
    out += char;
    width += w;
  }
  return `${out}…`;
}

/** Columns a string takes in a terminal: East Asian wide and full-width characters take two. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) width += charWidth(char);
  return width;
}

function charWidth(char: string): number {
  const code = char.codePointAt(0)!;
  if (code < 0x1100) return 1;
  return code <= 0x115f ||
    (code >= 0x2e80 && code <= 0xa4cf && code !== 0x303f) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) ||
    (code >= 0x1f300 && code <= 0x1f64f) ||
    (code >= 0x1f900 && code <= 0x1f9ff) ||
    (code >= 0x20000 && code <= 0x3fffd)
    ? 2
    : 1;
}
