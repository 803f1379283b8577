import { readdir as readdirCallback, readFile as readFileCallback } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { configError } from '../core/validate.js';
import { dayOfSendLogFile, sendLogFileName } from './file.js';
import { SEND_STATUSES, type SendRecord } from '../core/send-log.js';

// Not node:fs/promises: importing it loads a part of Node's runtime (FileHandle, readline,
// watchers), which a process that reads a send log once does not need either.
const readdir = promisify(readdirCallback);
const readFile = promisify(readFileCallback);

/** What readSendLog's options become: every filter a record must pass. */
export interface Filters {
  since: number;
  until: number;
  statuses?: ReadonlySet<string>;
  to?: AddressMatcher;
  from?: AddressMatcher;
  account?: string;
  limit: number;
  /** What every matching line contains: lines without it are not parsed. */
  prefilter?: RegExp;
}

export type AddressMatcher = (address: string) => boolean;

const DAY_MS = 86_400_000;

/** The records of the send log in `dir` that pass `filters`, newest first. */
export async function* readRecords(dir: string, filters: Filters): AsyncGenerator<SendRecord> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw configError([{ path: 'dir', message: 'is not a folder with a send log' }]);
    throw err;
  }
  const days = names
    .map(dayOfSendLogFile)
    .filter((day): day is string => day !== undefined)
    .filter((day) => {
      const start = Date.parse(`${day}T00:00:00Z`);
      return start <= filters.until && start + DAY_MS > filters.since;
    })
    .sort()
    .reverse();
  let left = filters.limit;
  for (const day of days) {
    let bytes: Buffer;
    try {
      bytes = await readFile(join(dir, sendLogFileName(day)));
    } catch (err) {
      // Removed by retention in another process meanwhile.
      if ((err as { code?: string }).code === 'ENOENT') continue;
      throw err;
    }
    const matches = matchingRecords(bytes, filters);
    for (const record of matches) {
      yield record;
      if (--left <= 0) return;
    }
  }
}

/** The records of one file that pass the filters, newest first. */
function matchingRecords(bytes: Buffer, filters: Filters): SendRecord[] {
  const lines = filters.prefilter ? linesMatching(bytes, filters.prefilter) : bytes.toString('utf8').split('\n');
  const matches: SendRecord[] = [];
  // Last line first: among records of the same millisecond, the one appended last comes first.
  for (let i = lines.length - 1; i >= 0; i--) {
    const record = parseLine(lines[i]!);
    if (record && passes(record, filters)) matches.push(record);
  }
  // Processes append concurrently: a file is in time order only roughly.
  return matches.sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0));
}

/**
 * The lines that match `pattern`, found in the whole file at once and decoded alone: decoding
 * and parsing every line of a busy day's file to find a few is what takes the time.
 */
function linesMatching(bytes: Buffer, pattern: RegExp): string[] {
  const text = bytes.toString('latin1');
  const lines: string[] = [];
  pattern.lastIndex = 0;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    const start = bytes.lastIndexOf(0x0a, match.index) + 1;
    const newline = bytes.indexOf(0x0a, match.index);
    const end = newline === -1 ? bytes.length : newline;
    lines.push(bytes.toString('utf8', start, end));
    pattern.lastIndex = end;
  }
  return lines;
}

const RECORD_START = '{"id":';

/**
 * One line as a record. A crash can cut a write short; the next write (of this or another
 * process) then continues that line: the record after the cut is still whole.
 */
function parseLine(line: string): SendRecord | undefined {
  if (line.length === 0) return undefined;
  const record = tryParse(line);
  if (record) return record;
  const start = line.lastIndexOf(RECORD_START);
  return start > 0 ? tryParse(line.slice(start)) : undefined;
}

function tryParse(text: string): SendRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const record = value as Partial<SendRecord> | null;
  if (
    typeof record !== 'object' ||
    record === null ||
    typeof record.id !== 'string' ||
    typeof record.time !== 'string' ||
    !Array.isArray(record.to) ||
    !(SEND_STATUSES as readonly unknown[]).includes(record.status)
  ) {
    return undefined;
  }
  return record as SendRecord;
}

function passes(record: SendRecord, filters: Filters): boolean {
  if (filters.statuses && !filters.statuses.has(record.status)) return false;
  if (filters.account !== undefined && record.account !== filters.account) return false;
  if (filters.from && !filters.from(record.from ?? '')) return false;
  if (filters.to && !record.to.some(filters.to)) return false;
  if (filters.since !== Number.NEGATIVE_INFINITY || filters.until !== Number.POSITIVE_INFINITY) {
    const time = Date.parse(record.time);
    if (!(time >= filters.since && time <= filters.until)) return false;
  }
  return true;
}
