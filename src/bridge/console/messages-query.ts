import { isGmailTransportError } from '../../errors/error.js';
import { csvHeader, csvRow } from '../../send-log/format.js';
import { readSendLog, type ReadSendLogOptions } from '../../send-log/reader.js';
import type { SendRecord, SendStatus } from '../../core/send-log.js';

/** Records per page of the messages page and of `GET /api/messages` (with `page=`). */
export const PAGE_SIZE = 50;

/** The filters of the messages page and of `GET /api/messages`, as given (empty ones left out). */
export interface MessageFilters {
  since?: string;
  until?: string;
  status?: string;
  to?: string;
  account?: string;
}

export function filtersOf(query: URLSearchParams): MessageFilters {
  const out: MessageFilters = {};
  for (const key of ['since', 'until', 'status', 'to', 'account'] as const) {
    const value = query.get(key)?.trim();
    if (value) out[key] = value;
  }
  return out;
}

/** A page number from `page=` (1 when absent or not a number). */
export function pageOf(query: URLSearchParams): number {
  const n = Number(query.get('page'));
  return Number.isInteger(n) && n >= 1 && n <= 1_000_000 ? n : 1;
}

/** Invalid filters, each named by its field (from readSendLog's own checks). */
export class FilterError extends Error {
  constructor(readonly issues: ReadonlyArray<{ path: string; message: string }>) {
    super(issues.map((i) => `${i.path} ${i.message}`).join('; '));
  }
}

/**
 * The records that match, newest first. Throws {@link FilterError} when a filter is not valid;
 * `status` takes several values separated by commas.
 */
export function matching(dir: string, filters: MessageFilters, limit?: number): AsyncIterableIterator<SendRecord> {
  const options: ReadSendLogOptions = {
    dir,
    ...(filters.since ? { since: filters.since } : {}),
    ...(filters.until ? { until: filters.until } : {}),
    ...(filters.status ? { status: filters.status.split(',').map((s) => s.trim()) as SendStatus[] } : {}),
    ...(filters.to ? { to: filters.to } : {}),
    ...(filters.account ? { account: filters.account } : {}),
    ...(limit !== undefined ? { limit } : {}),
  };
  try {
    return guard(readSendLog(options));
  } catch (err) {
    throw asFilterError(err);
  }
}

/** One page of records, and whether an older page exists. */
export async function pageOfRecords(dir: string, filters: MessageFilters, page: number): Promise<{ records: SendRecord[]; more: boolean }> {
  const skip = (page - 1) * PAGE_SIZE;
  const records: SendRecord[] = [];
  let seen = 0;
  for await (const record of matching(dir, filters, skip + PAGE_SIZE + 1)) {
    if (seen++ >= skip) records.push(record);
  }
  const more = records.length > PAGE_SIZE;
  return { records: records.slice(0, PAGE_SIZE), more };
}

/** Writes the matching records as CSV (the `gmail-transport log --format csv` columns) to `write`. */
export async function writeCsv(dir: string, filters: MessageFilters, write: (chunk: string) => void): Promise<void> {
  const records = matching(dir, filters);
  let chunk = csvHeader();
  let rows = 0;
  for await (const record of records) {
    chunk += csvRow(record);
    if (++rows % 256 === 0) {
      write(chunk);
      chunk = '';
    }
  }
  if (chunk) write(chunk);
}

/** A folder that does not exist yet (no message sent since the log was configured) holds no records. */
async function* guard(records: AsyncIterableIterator<SendRecord>): AsyncIterableIterator<SendRecord> {
  try {
    yield* records;
  } catch (err) {
    if (isGmailTransportError(err) && err.code === 'CONFIG_INVALID' && err.issues?.every((i) => i.path === 'dir')) return;
    throw err;
  }
}

function asFilterError(err: unknown): unknown {
  if (isGmailTransportError(err) && err.code === 'CONFIG_INVALID')
    return new FilterError((err.issues ?? []).map((i) => ({ path: i.path, message: i.message })));
  return err;
}
