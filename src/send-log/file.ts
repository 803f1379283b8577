import { close, mkdir, open, readdir, unlink, writeSync } from 'node:fs';
import { join } from 'node:path';
// Node's own timers: the commit window is how writes are grouped, not a decision on the
// clock that a test fakes, and a faked timer would leave sends unsettled.
import { setTimeout as realSetTimeout } from 'node:timers';
import type { SendRecord } from '../core/send-log.js';

const DAY_MS = 86_400_000;
/** One write() carries at most this many characters of whole lines. */
const MAX_BATCH_BYTES = 1_048_576;
/**
 * Group commit: a record waits at most this long for others to share its write(). The send it
 * belongs to settles after the write, so this is the most a send log adds to a send's latency.
 */
const COMMIT_WINDOW_MS = 10;
/** ... or less, once this many records wait: a burst is written without waiting. */
const COMMIT_RECORDS = 128;
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

export interface SendLogFileOptions<T> {
  dir: string;
  /** Makes the record of a queued item, when its write is due. @default the item is the record */
  build?: (item: T) => SendRecord;
  retentionDays: number;
  onFailure: (failure: SendLogFailure) => void;
  /** The clock of the retention clean-up. @default Date.now */
  now?: () => number;
  /**
   * Whether more records may come soon (sends still on their way). While none can, a record is
   * written at once: there is nobody to wait for, and its send settles without the window.
   * @default more may always come
   */
  moreComing?: () => boolean;
}

interface Pending<T> {
  item: T;
  done: () => void;
  /** Set when the write is due; empty when the record could not be made. */
  day?: string;
  line?: string;
}

/**
 * Appends records to `dir/send-YYYY-MM-DD.jsonl` (the UTC day of each record's `time`), one
 * JSON line each. Why it takes these steps: docs/decisions/0009-send-log-durability.md.
 *
 * - The file is opened with O_APPEND and each write() carries whole lines only, so processes
 *   appending to the same file never interleave their bytes (on a local file system).
 * - `done` runs once write() returned: the record is in the operating system's hands (it
 *   survives a crash of this process; not a power cut: there is no fsync per record).
 * - Group commit: records that arrive within a few milliseconds of each other (or while the
 *   day's file is being opened) go out in one write(), in the order they arrived. Under load
 *   one system call then carries many records. A record waits only while more may come
 *   (`moreComing`): the last of a burst, or a lone send's, goes out at once. The records of a
 *   batch are made and serialised together, in one pass over the batch.
 * - The write is synchronous: a batch of lines into the page cache takes microseconds, less
 *   than a trip through libuv's thread pool and back costs the event loop.
 * - A failure is reported through `onFailure`, and `done` still runs: the log never holds up
 *   or fails a send.
 */
export class SendLogFile<T = SendRecord> {
  readonly #dir: string;
  readonly #build: (item: T) => SendRecord;
  readonly #retentionMs: number;
  readonly #onFailure: (failure: SendLogFailure) => void;
  readonly #now: () => number;
  readonly #moreComing: () => boolean;
  #queue: Pending<T>[] = [];
  /** How many of the queued items have their line made, from the front. */
  #made = 0;
  /** The commit window's timer, made once and restarted for each window. */
  #timer: ReturnType<typeof realSetTimeout> | undefined;
  #windowOpen = false;
  #busy = false;
  #fd: number | undefined;
  #fdDay: string | undefined;
  #dirMade = false;
  #closed = false;
  #cleanup: Promise<void> | undefined;
  #idle: Array<() => void> = [];

  constructor(options: SendLogFileOptions<T>) {
    this.#dir = options.dir;
    this.#build = options.build ?? ((item) => item as unknown as SendRecord);
    this.#retentionMs = options.retentionDays * DAY_MS;
    this.#onFailure = options.onFailure;
    this.#now = options.now ?? Date.now;
    this.#moreComing = options.moreComing ?? (() => true);
  }

  append(item: T, done: () => void): void {
    this.#queue.push({ item, done });
    if (this.#queue.length >= COMMIT_RECORDS || this.#closed || !this.#moreComing()) this.#commit();
    else if (!this.#windowOpen) {
      this.#windowOpen = true;
      if (this.#timer) this.#timer.refresh();
      else this.#timer = realSetTimeout(this.#commit, COMMIT_WINDOW_MS);
    }
  }

  /**
   * Ends the commit window: everything queued is written now. A timer that fires with the
   * window already closed finds nothing queued, or records a write in progress will take.
   */
  readonly #commit = (): void => {
    this.#windowOpen = false;
    this.#pump();
  };

  /**
   * Resolves once every record given so far is written and a clean-up in progress is done,
   * then closes the file. A record appended later opens it again.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#commit();
    if (this.#busy || this.#queue.length > 0) await new Promise<void>((resolve) => this.#idle.push(resolve));
    await this.#cleanup;
    this.#closeFd();
  }

  #pump(): void {
    if (this.#busy) return;
    const queue = this.#queue;
    if (queue.length === 0) {
      if (this.#closed) this.#closeFd();
      for (const resolve of this.#idle.splice(0)) resolve();
      return;
    }
    this.#busy = true;
    for (; this.#made < queue.length; this.#made++) this.#make(queue[this.#made]!);
    // The batch: the front records of one day (records that could not be made go along).
    const day = queue.find((p) => p.line !== '')?.day ?? '';
    let count = 0;
    let bytes = 0;
    for (; count < queue.length && (queue[count]!.day === day || queue[count]!.line === ''); count++) {
      const next = bytes + queue[count]!.line!.length;
      if (count > 0 && next > MAX_BATCH_BYTES) break;
      bytes = next;
    }
    const batch = queue.splice(0, count);
    this.#made -= count;
    if (bytes === 0) {
      this.#finish(batch, undefined);
      return;
    }
    this.#withFile(day, (fd, openError) => {
      if (fd === undefined) {
        this.#finish(batch, this.#failed('write', batch.length, openError));
        return;
      }
      const buffer = Buffer.from(batch.length === 1 ? batch[0]!.line! : batch.map((p) => p.line).join(''), 'utf8');
      const length = buffer.length;
      // One write() per batch: O_APPEND makes it land whole at the end of the file.
      let written: number;
      try {
        written = writeSync(fd, buffer);
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

  /** The item's record as a line, and the day whose file takes it. */
  #make(pending: Pending<T>): void {
    let record: SendRecord;
    try {
      record = this.#build(pending.item);
    } catch {
      // A record that cannot be made is lost, reported like a failed write; its send still settles.
      pending.day = '';
      pending.line = '';
      this.#onFailure({ kind: 'write', message: `could not make the send-log record of a message for ${this.#dir}` });
      return;
    }
    pending.day = record.time.slice(0, 10);
    pending.line = `${JSON.stringify(record)}\n`;
  }

  #finish(batch: readonly Pending<T>[], failure: SendLogFailure | undefined): void {
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
