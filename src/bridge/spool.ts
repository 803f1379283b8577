import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { HeaderReader, type MessageHeaders } from './headers.js';

/** A message as received from a device, on disk. */
export interface SpooledMessage {
  path: string;
  /** Bytes received (also past the limit, which are not kept). */
  bytes: number;
  /** More than `maxBytes` arrived: the file holds only the first part. */
  tooBig: boolean;
  headers: MessageHeaders;
  /** The file could not be written (a full disk, a directory gone): nothing of it is kept. */
  failure?: NodeJS.ErrnoException;
}

/**
 * Holds each message in flight in a file of its own while the upstream is asked to take it, so
 * that a message costs the bridge a few kilobytes of memory whatever its size
 * (docs/decisions/0018-bridge-message-spool.md). The directory is made private (0700) at start, each
 * file is created new with mode 0600, and a file lives only until its device got its answer.
 */
export class Spool {
  readonly dir: string;

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** Makes a private directory of its own under `parent`. */
  static async create(parent: string): Promise<Spool> {
    // mkdtemp creates the directory with mode 0700 and a name nobody else can guess in advance.
    return new Spool(await mkdtemp(join(parent, 'gmail-transport-bridge-')));
  }

  /**
   * Writes a device's message stream to `<dir>/<name>`, reading its headers on the way. The
   * stream is read to its end whatever happens: past `maxBytes` the rest is dropped, and after a
   * disk failure everything is (the device gets its reply after the final dot, RFC 5321 section
   * 4.1.1.4). Rejects, leaving no file, only when the device hung up before the end.
   */
  async receive(stream: Readable, name: string, maxBytes: number): Promise<SpooledMessage> {
    const path = join(this.dir, name);
    const reader = new HeaderReader();
    // 'wx': a new file or none, never one that somebody put there.
    const file = createWriteStream(path, { flags: 'wx', mode: 0o600 });
    let bytes = 0;
    let failure: NodeJS.ErrnoException | undefined;
    file.on('error', (err) => {
      failure ??= err;
      stream.resume();
    });
    const received = new Promise<void>((resolve, reject) => {
      stream.on('data', (chunk: Buffer) => {
        const keep = Math.max(0, Math.min(chunk.length, maxBytes - bytes));
        bytes += chunk.length;
        const kept = keep === chunk.length ? chunk : chunk.subarray(0, keep);
        if (!reader.done && keep > 0) reader.push(kept);
        if (failure || keep === 0) return;
        // Backpressure: a paused stream makes smtp-server stop reading the device's socket.
        if (!file.write(kept)) {
          stream.pause();
          file.once('drain', () => stream.resume());
        }
      });
      stream.once('end', resolve);
      stream.once('error', reject);
      // After 'end' this is a no-op; before it, the device went away mid-message.
      stream.once('close', () => reject(new Error('the device closed the connection during DATA')));
    });
    try {
      await received;
      file.end();
      await finished(file).catch((err: NodeJS.ErrnoException) => {
        failure ??= err;
      });
    } catch (err) {
      file.destroy();
      await this.remove(path);
      throw err;
    }
    reader.end();
    if (failure) await this.remove(path);
    return { path, bytes, tooBig: bytes > maxBytes, headers: reader.headers, ...(failure ? { failure } : {}) };
  }

  /** Deletes a message's file; one already gone is fine. */
  async remove(path: string): Promise<void> {
    await unlink(path).catch(() => undefined);
  }

  /** Deletes the directory and anything left in it. */
  async close(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
