import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { HeaderReader, type MessageHeaders } from './headers.js';

const PREFIX = 'gmail-transport-bridge-';

/** A message as received from a device, on disk. */
export interface SpooledMessage {
  /** The message's private directory and its file in it. */
  dir?: string;
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
 * Holds each message in flight in a file while the upstream is asked to take it, so that a
 * message costs the bridge a few kilobytes of memory whatever its size
 * (docs/decisions/0008-bridge-message-spool.md). Each message gets a directory of its own, made
 * private (0700) with a name nobody can guess in advance, holding one file (0600) that lives
 * only until the device has its answer. Nothing is kept between messages, so a cleaner that
 * empties the temporary directory of an idle bridge breaks nothing.
 */
export class Spool {
  readonly parent: string;

  constructor(parent: string) {
    this.parent = parent;
  }

  /** Proves that `parent` can hold the bridge's directories (made and removed again). */
  async check(): Promise<void> {
    await rm(await mkdtemp(join(this.parent, PREFIX)), { recursive: true, force: true });
  }

  /**
   * Writes a device's message stream to a file, reading its headers on the way. The stream is
   * read to its end whatever happens: past `maxBytes` the rest is dropped, and after a disk
   * failure everything is (the device gets its reply after the final dot, RFC 5321 section
   * 4.1.1.4). Rejects, leaving nothing behind, only when the device hung up before the end.
   */
  async receive(stream: Readable, maxBytes: number): Promise<SpooledMessage> {
    const reader = new HeaderReader();
    let dir: string | undefined;
    let path = '';
    let file: WriteStream | undefined;
    let failure: NodeJS.ErrnoException | undefined;
    let bytes = 0;
    const fail = (err: NodeJS.ErrnoException): void => {
      failure ??= err;
      stream.resume();
    };
    // Until the file is open, what arrives waits in the stream (and the device's socket).
    stream.pause();
    const received = new Promise<void>((resolve, reject) => {
      stream.on('data', (chunk: Buffer) => {
        const keep = Math.max(0, Math.min(chunk.length, maxBytes - bytes));
        bytes += chunk.length;
        const kept = keep === chunk.length ? chunk : chunk.subarray(0, keep);
        if (!reader.done && keep > 0) reader.push(kept);
        if (failure || keep === 0 || !file) return;
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
    // The device may hang up while the file is still being opened, before `received` is awaited
    // below: a rejection nobody listens to yet would end the process (Node's default for an
    // unhandled rejection). It is still awaited, and thrown, below.
    received.catch(() => undefined);
    try {
      dir = await mkdtemp(join(this.parent, PREFIX));
      path = join(dir, 'message.eml');
      // 'wx': a new file or none; 0600 whatever the umask leaves.
      file = createWriteStream(path, { flags: 'wx', mode: 0o600 });
      file.on('error', fail);
      stream.resume();
    } catch (err) {
      fail(err as NodeJS.ErrnoException);
    }
    try {
      await received;
      if (file && !failure) {
        file.end();
        await finished(file).catch(fail);
      }
    } catch (err) {
      file?.destroy();
      await removeDir(dir);
      throw err;
    }
    reader.end();
    if (failure) {
      file?.destroy();
      await removeDir(dir);
      return { path, bytes, tooBig: bytes > maxBytes, headers: reader.headers, failure };
    }
    return { ...(dir ? { dir } : {}), path, bytes, tooBig: bytes > maxBytes, headers: reader.headers };
  }

  /** Deletes a message's directory and file. */
  async remove(message: SpooledMessage): Promise<void> {
    await removeDir(message.dir);
  }
}

async function removeDir(dir: string | undefined): Promise<void> {
  if (dir) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
}
