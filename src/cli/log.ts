import { resolve } from 'node:path';
import { isGmailTransportError } from '../errors/error.js';
import { EXIT_FAILED, EXIT_OK, parseCommandLine, UsageError, type CliIo } from './io.js';
import { csvHeader, csvRow, jsonLine, table } from '../send-log/format.js';
import { parseTimeBound, readSendLog, type ReadSendLogOptions } from '../send-log/reader.js';
import { SEND_STATUSES, type SendRecord, type SendStatus } from '../core/send-log.js';

export const LOG_HELP = `Usage: gmail-transport log --dir DIR [filters] [--format table|csv|json]

Shows the send log written with the sendLog option (of a transport or of the bridge), newest
record first: one record per message, with its outcome (delivered, refused, deferred,
uncertain), the server's reply and Google's queue id.

Options:
  --dir DIR         the sendLog folder
  --since DATE      records at or after DATE: 2024-05-07 (from that day's start, local time),
                    2024-05-07T09:30 (local), 2024-05-07T00:30Z or 2024-05-07T09:30+09:00
  --until DATE      records at or before DATE (a date alone includes that whole day)
  --status S        delivered, refused, deferred or uncertain; several with commas
  --to ADDR         a recipient, or @example.com for anyone at that domain
  --from ADDR       the sender, or @example.com
  --account NAME    bridge records of this device account (or network:ADDRESS)
  --limit N         at most N records
  --format F        table (default), csv (UTF-8 with a byte-order mark, for Excel) or json
                    (one object per line)
  -h, --help        show this help

Examples:
  gmail-transport log --dir /var/log/gmail-transport --to customer@example.com --since 2024-05-07
  gmail-transport log --dir ./send-log --status refused,deferred --format csv > problems.csv

Exit codes: 0 done (also when nothing matched), 1 the log could not be read, 2 wrong command line.
`;

const OPTIONS = {
  dir: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  status: { type: 'string' },
  to: { type: 'string' },
  from: { type: 'string' },
  account: { type: 'string' },
  limit: { type: 'string' },
  format: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const FORMATS = ['table', 'csv', 'json'] as const;
/** Output is written in chunks of this many records. */
const CHUNK = 256;

/** `gmail-transport log`: returns the exit code. */
export async function runLog(args: readonly string[], io: CliIo): Promise<number> {
  const flags = parseCommandLine(args, OPTIONS);
  if (flags.help) {
    io.stdout.write(LOG_HELP);
    return EXIT_OK;
  }
  const options = filtersOf(flags, io.cwd);
  const format = (flags.format ?? 'table') as (typeof FORMATS)[number];
  if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}`);

  const records = readSendLog(options);
  const rows: SendRecord[] = [];
  let chunk = format === 'csv' ? csvHeader() : '';
  let pending = 0;
  let count = 0;
  try {
    for await (const record of records) {
      // `gmail-transport log | head` closes the pipe early: stop reading once writing failed.
      if (io.stdout.closed) break;
      count++;
      if (format === 'table') {
        rows.push(record);
        continue;
      }
      chunk += format === 'csv' ? csvRow(record) : jsonLine(record);
      if (++pending >= CHUNK) {
        io.stdout.write(chunk);
        chunk = '';
        pending = 0;
      }
    }
  } catch (err) {
    // Only the folder can be wrong by now (the filters were checked); else a file system error,
    // named by its code.
    const reason = isGmailTransportError(err) ? 'no such folder' : String((err as { code?: unknown }).code ?? 'error');
    io.stderr.write(`gmail-transport log: could not read the send log in ${options.dir} (${reason})\n`);
    return EXIT_FAILED;
  }
  if (io.stdout.closed) return EXIT_OK;
  if (format === 'table') {
    if (count > 0) io.stdout.write(table(rows));
    else io.stderr.write('gmail-transport log: no records match\n');
  } else if (chunk !== '') {
    io.stdout.write(chunk);
  }
  return EXIT_OK;
}

function filtersOf(flags: Partial<Record<keyof typeof OPTIONS, string | boolean>>, cwd: string): ReadSendLogOptions {
  const text = (name: keyof typeof OPTIONS): string | undefined => {
    const value = flags[name];
    if (typeof value !== 'string') return undefined;
    if (value.trim() === '') throw new UsageError(`--${name} must not be empty`);
    return value;
  };
  const dir = text('dir');
  if (dir === undefined) throw new UsageError('--dir DIR is required (the sendLog folder)');
  const since = time(text('since'), '--since', 'start');
  const until = time(text('until'), '--until', 'end');
  if (since !== undefined && until !== undefined && since > until) throw new UsageError('--since is later than --until');
  const status = text('status');
  const statuses = status?.split(',').map((s) => s.trim().toLowerCase());
  if (statuses && statuses.some((s) => !(SEND_STATUSES as readonly string[]).includes(s))) {
    throw new UsageError(`--status must be ${SEND_STATUSES.join(', ')}, or several of them separated by commas`);
  }
  const limit = text('limit');
  if (limit !== undefined && !/^[1-9]\d{0,8}$/.test(limit.trim())) throw new UsageError('--limit takes a whole number greater than 0');
  const to = text('to');
  const from = text('from');
  const account = text('account');
  return {
    dir: resolve(cwd, dir),
    ...(since !== undefined ? { since } : {}),
    ...(until !== undefined ? { until } : {}),
    ...(statuses ? { status: statuses as SendStatus[] } : {}),
    ...(to !== undefined ? { to } : {}),
    ...(from !== undefined ? { from } : {}),
    ...(account !== undefined ? { account } : {}),
    ...(limit !== undefined ? { limit: Number(limit) } : {}),
  };
}

function time(value: string | undefined, flag: string, edge: 'start' | 'end'): number | undefined {
  if (value === undefined) return undefined;
  const parsed = parseTimeBound(value, edge);
  if (parsed === undefined) throw new UsageError(`${flag} takes a date (2024-05-07) or a date and time (2024-05-07T09:30, 2024-05-07T00:30Z)`);
  return parsed;
}
