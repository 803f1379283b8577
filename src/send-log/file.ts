import { close, mkdir, open, readdir, unlink, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { SendRecord } from '../core/send-log.js';

const DAY_MS = 86_400_000;
/** Records that queued up while the file was being opened go out together, up to this many characters. */
const MAX_BATCH_BYTES = 1_048_576;
const FILE_NAME = /^send-(\d{4}-\d{2}-\d{2})\.jsonl$/;

/** The file of one UTC day (`YYYY-MM-DD`). */
export function sendLogFileName(day: string): string {
  return `send-${day}.jsonl`;
}

/** The UTC day a send-log file holds, or undefined for any other file. */
export function dayOfSendLogFile(name: string): string | undefined {
  return FILE_NAME.exec(name)?.[1];
}

/** A write or clean-up that failed; the message names the file and the system error code. */
export interface SendLogFailure {
  kind: 'write' | 'cleanup';
  message: string;
}

export interface SendLogFileOptions {
  dir: string;
  retentionDays: number;
  onFailure: (failure: SendLogFailure) => void;
  /** The clock of the retention clean-up. @default Date.now */
  now?: () => number;
}

interface Pending {
  day: string;
  line: string;
  done: () => void;
}

/**
 * Appends records to `dir/send-YYYY-MM-DD.jsonl` (the UTC day of each record's `time`), one
 * JSON line each. Why it takes these steps: docs/decisions/0009-send-log-durability.md.
 *
 * - The file is opened with O_APPEND and each write() carries whole lines only, so processes
 *   appending to the same file never interleave their bytes (on a local file system).
 * - `done` runs once write() returned: the record is in the operating system's hands (it
 *   survives a crash of this process; not a power cut: there is no fsync per record).
 * - The write is synchronous: a few hundred bytes into the page cache take microseconds, less
 *   than a trip through libuv's thread pool and back costs the event loop.
 * - Records that arrive while the day's file is being opened go out together, in the order
 *   they arrived.
 * - A failure is reported through `onFailure`, and `done` still runs: the log never holds up
 *   or fails a send.
 */
export class SendLogFile {
  readonly #dir: string;
  readonly #retentionMs: number;
  readonly #onFailure: (failure: SendLogFailure) => void;
  readonly #now: () => number;
  #queue: Pending[] = [];
  #busy = false;
  #fd: number | undefined;
  #fdDay: string | undefined;
  #dirMade = false;
  #closed = false;
  #cleanup: Promise<void> | undefined;
  #idle: Array<() => void> = [];

  constructor(options: SendLogFileOptions) {
    this.#dir = options.dir;
    this.#retentionMs = options.retentionDays * DAY_MS;
    this.#onFailure = options.onFailure;
    this.#now = options.now ?? Date.now;
  }

  append(record: SendRecord, done: () => void): void {
    this.#queue.push({ day: record.time.slice(0, 10), line: `${JSON.stringify(record)}\n`, done });
    this.#pump();
  }

  /**
   * Resolves once every record given so far is written and a clean-up in progress is done,
   * then closes the file. A record appended later opens it again.
   */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#busy || this.#queue.length > 0) await new Promise<void>((resolve) => this.#idle.push(resolve));
    await this.#cleanup;
    this.#closeFd();
  }

  #pump(): void {
    if (this.#busy) return;
    const first = this.#queue[0];
    if (!first) {
      if (this.#closed) this.#closeFd();
      for (const resolve of this.#idle.splice(0)) resolve();
      return;
    }
    this.#busy = true;
    let count = 1;
    let bytes = first.line.length;
    for (; count < this.#queue.length && this.#queue[count]!.day === first.day; count++) {
      bytes += this.#queue[count]!.line.length;
      if (bytes > MAX_BATCH_BYTES) break;
    }
    const batch = this.#queue.splice(0, count);
    this.#withFile(first.day, (fd, openError) => {
      if (fd === undefined) {
        this.#finish(batch, this.#failed('write', batch.length, openError));
        return;
      }
      const text = batch.length === 1 ? first.line : batch.map((p) => p.line).join('');
      const length = Buffer.byteLength(text);
      // One write() per batch: O_APPEND makes it land whole at the end of the file.
      let written: number;
      try {
        written = writeSync(fd, text, null, 'utf8');
      } catch (err) {
        this.#closeFd();
        this.#finish(batch, this.#failed('write', batch.length, err));
        return;
      }
      this.#finish(
        batch,
        written === length
          ? undefined
          : this.#failed('write', batch.length, Object.assign(new Error('short write'), { code: `wrote ${written} of ${length} bytes` })),
      );
    });
  }

  #finish(batch: readonly Pending[], failure: SendLogFailure | undefined): void {
    this.#busy = false;
    if (failure) this.#onFailure(failure);
    this.#pump();
    for (const pending of batch) {
      try {
        pending.done();
      } catch (err) {
        // A throw out of a caller's callback is theirs; the other sends still settle.
        process.nextTick(() => {
          throw err;
        });
      }
    }
  }

  #withFile(day: string, callback: (fd: number | undefined, err?: unknown) => void): void {
    if (this.#fd !== undefined && this.#fdDay === day) {
      callback(this.#fd);
      return;
    }
    this.#closeFd();
    const opened = (): void => {
      open(join(this.#dir, sendLogFileName(day)), 'a', 0o640, (err, fd) => {
        if (err) {
          callback(undefined, err);
          return;
        }
        this.#fd = fd;
        this.#fdDay = day;
        // A new day's file (or this process's first): time to remove the expired ones.
        this.#cleanup ??= this.#removeExpired().finally(() => {
          this.#cleanup = undefined;
        });
        callback(fd);
      });
    };
    if (this.#dirMade) {
      opened();
      return;
    }
    mkdir(this.#dir, { recursive: true, mode: 0o750 }, (err) => {
      if (err) {
        callback(undefined, err);
        return;
      }
      this.#dirMade = true;
      opened();
    });
  }

  #closeFd(): void {
    if (this.#fd === undefined) return;
    close(this.#fd, () => undefined);
    this.#fd = undefined;
    this.#fdDay = undefined;
  }

  /** Removes the files whose whole day ended more than `retentionDays` ago. */
  async #removeExpired(): Promise<void> {
    const cutoff = this.#now() - this.#retentionMs;
    let names: string[];
    try {
      names = await new Promise<string[]>((resolve, reject) => readdir(this.#dir, (err, list) => (err ? reject(err) : resolve(list))));
    } catch (err) {
      this.#onFailure(this.#failed('cleanup', undefined, err));
      return;
    }
    for (const name of names) {
      const day = dayOfSendLogFile(name);
      if (day === undefined || Date.parse(`${day}T00:00:00Z`) + DAY_MS > cutoff) continue;
      await new Promise<void>((resolve) =>
        unlink(join(this.#dir, name), (err) => {
          // Another process of the fleet may have removed it first.
          if (err && err.code !== 'ENOENT') this.#onFailure(this.#failed('cleanup', undefined, err, name));
          resolve();
        }),
      );
    }
  }

  #failed(kind: SendLogFailure['kind'], records: number | undefined, err: unknown, name?: string): SendLogFailure {
    const code = (err as { code?: unknown } | undefined)?.code;
    const reason = typeof code === 'string' ? code : 'error';
    const where = name ? join(this.#dir, name) : this.#dir;
    const message =
      kind === 'write'
        ? `could not record ${records === 1 ? '1 message' : `${records} messages`} in the send log at ${where} (${reason})`
        : `could not remove an expired send-log file at ${where} (${reason})`;
    return { kind, message };
  }
}
