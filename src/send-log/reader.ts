import type { ConfigIssue } from '../errors/error.js';
import { configError, describeType } from '../core/validate.js';
import { SEND_STATUSES, type SendRecord, type SendStatus } from '../core/send-log.js';
import type { AddressMatcher, Filters } from './scan.js';

/** Options of {@link readSendLog}: the folder, and filters that all must match. */
export interface ReadSendLogOptions {
  /** The `sendLog.dir` the records were written to. */
  dir: string;
  /**
   * Records at or after this moment. A string is a date (`2024-05-07`: that day's start in this
   * machine's time zone) or a date and time (`2024-05-07T09:30`, local; `…Z` or `…+09:00` exact).
   */
  since?: Date | string | number;
  /** Records at or before this moment; a date alone includes that whole day. */
  until?: Date | string | number;
  status?: SendStatus | readonly SendStatus[];
  /** A recipient (any case), or `@example.com` for anyone at that domain. */
  to?: string;
  /** The envelope sender (any case), or `@example.com`. */
  from?: string;
  /** Bridge records of this device account (or `network:<address>`). */
  account?: string;
  /** At most this many records. */
  limit?: number;
}

/**
 * Reads a send log, newest record first, keeping the records that match every filter given.
 * Lines that are not whole records (the end of a line cut short by a crash) are skipped.
 *
 * @throws GmailTransportError `CONFIG_INVALID` naming each invalid option, when called (a
 *   folder that does not exist: at the first read).
 * @example
 * ```ts
 * for await (const record of readSendLog({ dir: '/var/log/gmail-transport', to: 'customer@example.com', since: '2024-05-07' })) {
 *   console.log(record.time, record.status, record.response);
 * }
 * ```
 */
export function readSendLog(options: ReadSendLogOptions): AsyncIterableIterator<SendRecord> {
  const issues: ConfigIssue[] = [];
  const input = (typeof options === 'object' && options !== null ? options : {}) as Partial<ReadSendLogOptions>;
  if (typeof input.dir !== 'string' || input.dir.trim() === '')
    issues.push({ path: 'dir', message: input.dir === undefined ? 'is required' : 'must be a non-empty string' });
  const since = timeOption(input.since, 'since', 'start', issues);
  const until = timeOption(input.until, 'until', 'end', issues);
  const statuses = input.status === undefined ? undefined : ((Array.isArray(input.status) ? input.status : [input.status]) as unknown[]);
  if (statuses && (statuses.length === 0 || statuses.some((s) => !(SEND_STATUSES as readonly unknown[]).includes(s)))) {
    issues.push({ path: 'status', message: `must be one of ${SEND_STATUSES.join(', ')} (or a list of them)` });
  }
  for (const key of ['to', 'from', 'account'] as const) {
    if (input[key] !== undefined && (typeof input[key] !== 'string' || input[key].trim() === ''))
      issues.push({ path: key, message: `must be a non-empty string, got ${describeType(input[key])}` });
  }
  if (input.limit !== undefined && !(Number.isInteger(input.limit) && input.limit > 0)) issues.push({ path: 'limit', message: 'must be a positive integer' });
  if (issues.length === 0 && since !== undefined && until !== undefined && since > until) issues.push({ path: 'since', message: 'is after until' });
  if (issues.length > 0) throw configError(issues);
  return scan(input.dir!, {
    since: since ?? Number.NEGATIVE_INFINITY,
    until: until ?? Number.POSITIVE_INFINITY,
    ...(statuses ? { statuses: new Set(statuses as string[]) } : {}),
    ...(input.to !== undefined ? { to: addressMatcher(input.to) } : {}),
    ...(input.from !== undefined ? { from: addressMatcher(input.from) } : {}),
    ...(input.account !== undefined ? { account: input.account } : {}),
    limit: input.limit ?? Number.POSITIVE_INFINITY,
    ...prefilterOf(input.to ?? input.from ?? input.account, statuses as string[] | undefined),
  });
}

/**
 * A pattern every line of a matching record contains, searched in a file's bytes read as
 * latin1 (one character per byte, so positions are byte offsets). JSON.stringify writes a
 * string as it is unless it holds a quote, a backslash or a control character; an address with
 * those, or with letters beyond ASCII (whose case the pattern could not fold), is not searched
 * for: every line is parsed instead.
 */
function prefilterOf(text: string | undefined, statuses: readonly string[] | undefined): { prefilter?: RegExp } {
  if (text !== undefined) {
    const needle = text.trim();
    return /^[\x20-\x7e]+$/.test(needle) && !/["\\]/.test(needle) ? { prefilter: new RegExp(needle.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'), 'gi') } : {};
  }
  return statuses ? { prefilter: new RegExp(`"status":"(?:${statuses.join('|')})"`, 'g') } : {};
}

function timeOption(value: unknown, path: string, edge: 'start' | 'end', issues: ConfigIssue[]): number | undefined {
  if (value === undefined) return undefined;
  const time =
    value instanceof Date ? value.getTime() : typeof value === 'number' ? value : typeof value === 'string' ? parseTimeBound(value, edge) : undefined;
  if (time === undefined || !Number.isFinite(time)) {
    issues.push({ path, message: 'must be a date (2024-05-07), a date and time (2024-05-07T09:30, 2024-05-07T00:30Z), a Date or epoch milliseconds' });
    return undefined;
  }
  return time;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * A time bound given as text, in epoch milliseconds: a date alone is the start of that day in
 * the local time zone (for `end`, the last millisecond of that day), a date and time without
 * an offset is local time. Undefined when the text is not a real date.
 */
export function parseTimeBound(text: string, edge: 'start' | 'end'): number | undefined {
  const trimmed = text.trim();
  const date = DATE.exec(trimmed);
  if (date) {
    const [year, month, day] = [Number(date[1]), Number(date[2]), Number(date[3])];
    if (!isCalendarDate(year, month, day)) return undefined;
    const start = new Date(year, month - 1, day).getTime();
    return edge === 'start' ? start : new Date(year, month - 1, day + 1).getTime() - 1;
  }
  const match = DATE_TIME.exec(trimmed);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(match[i] ?? 0)) as [number, number, number, number, number, number];
  if (!isCalendarDate(year, month, day) || hour > 23 || minute > 59 || second > 59) return undefined;
  const time = Date.parse(`${match[1]}-${match[2]}-${match[3]}T${match[4]}:${match[5]}:${match[6] ?? '00'}${match[7] ?? ''}${normalizeOffset(match[8])}`);
  return Number.isNaN(time) ? undefined : time;
}

function isCalendarDate(year: number, month: number, day: number): boolean {
  const probe = new Date(Date.UTC(year, month - 1, day));
  return probe.getUTCFullYear() === year && probe.getUTCMonth() === month - 1 && probe.getUTCDate() === day;
}

function normalizeOffset(offset: string | undefined): string {
  if (!offset || offset.toUpperCase() === 'Z') return offset?.toUpperCase() ?? '';
  return offset.includes(':') ? offset : `${offset.slice(0, 3)}:${offset.slice(3)}`;
}

/** Exact address (any case), or a domain given as `@example.com` (which also matches `*@example.com`). */
function addressMatcher(value: string): AddressMatcher {
  const needle = value.trim().toLowerCase();
  if (needle.startsWith('@')) return (address) => address.toLowerCase().endsWith(needle);
  return (address) => address.length === needle.length && address.toLowerCase() === needle;
}

/**
 * The records of `dir` that pass `filters`. The part that reads and parses the files loads at
 * the first record asked for: a process that only writes its send log never holds it.
 */
async function* scan(dir: string, filters: Filters): AsyncGenerator<SendRecord> {
  const { readRecords } = await import('./scan.js');
  yield* readRecords(dir, filters);
}
