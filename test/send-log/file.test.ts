import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SendLogFile, sendLogFileName, type SendLogFailure } from '../../src/send-log/file.js';
import type { SendRecord } from '../../src/index.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const tempDir = tempDirs('send-log-file-');

function record(time: number, id: string, extra: Partial<SendRecord> = {}): SendRecord {
  return {
    id,
    time: new Date(time).toISOString(),
    strategy: 'app-password',
    from: 'me@gmail.com',
    to: ['you@example.com'],
    status: 'delivered',
    latencyMs: 5,
    attempts: 1,
    ...extra,
  };
}

function append(file: SendLogFile, rec: SendRecord): Promise<void> {
  return new Promise((resolve) => file.append(rec, resolve));
}

/** The file that holds the records of `time`'s UTC day. */
const fileOfDay = (dir: string, time: number) => join(dir, sendLogFileName(new Date(time).toISOString().slice(0, 10)));

const lines = (path: string) => readFileSync(path, 'utf8').split('\n').filter(Boolean);

describe('SendLogFile', () => {
  it('retention: removes the files whose day ended more than retentionDays ago, by the injected clock, and nothing else', async () => {
    const dir = tempDir();
    const names = [
      'send-2024-01-01.jsonl',
      'send-2024-01-30.jsonl',
      'send-2024-01-31.jsonl',
      'send-2024-02-29.jsonl',
      'notes.txt',
      'send-2024-01-01.jsonl.bak',
      'send-2024-1-1.jsonl',
    ];
    for (const name of names) writeFileSync(join(dir, name), '{}\n');
    // 2024-03-01 12:00 UTC, 30 days: the cut-off is 2024-01-31 12:00, so the 31st (ending
    // 2024-02-01 00:00) is still within the window and the 30th (ending at 31st 00:00) is not.
    const now = Date.UTC(2024, 2, 1, 12);
    const failures: SendLogFailure[] = [];
    const file = new SendLogFile({ dir, retentionDays: 30, onFailure: (f) => failures.push(f), now: () => now });
    await append(file, record(now, 'a'));
    await file.close();
    expect(readdirSync(dir).sort()).toEqual([
      'notes.txt',
      'send-2024-01-01.jsonl.bak',
      'send-2024-01-31.jsonl',
      'send-2024-02-29.jsonl',
      'send-2024-03-01.jsonl',
      'send-2024-1-1.jsonl',
    ]);
    expect(failures).toEqual([]);
  });

  it('rotates at UTC midnight, and each new day removes what expired meanwhile', async () => {
    const dir = tempDir();
    let now = Date.UTC(2024, 4, 7, 23, 59, 59, 900);
    const file = new SendLogFile({ dir, retentionDays: 1, onFailure: () => undefined, now: () => now });
    await append(file, record(now, 'before-midnight'));
    now += 200;
    await append(file, record(now, 'after-midnight'));
    expect(readdirSync(dir).sort()).toEqual(['send-2024-05-07.jsonl', 'send-2024-05-08.jsonl']);
    // Two days later the 7th ended more than one day ago: the next day's first record removes it.
    now = Date.UTC(2024, 4, 9, 0, 0, 1);
    await append(file, record(now, 'two-days-on'));
    await file.close();
    expect(readdirSync(dir).sort()).toEqual(['send-2024-05-08.jsonl', 'send-2024-05-09.jsonl']);
    expect(lines(join(dir, 'send-2024-05-08.jsonl')).map((l) => (JSON.parse(l) as SendRecord).id)).toEqual(['after-midnight']);
  });

  it('each record is in the file when its callback runs; records queued behind a write keep their order', async () => {
    const dir = tempDir();
    const file = new SendLogFile({ dir, retentionDays: 30, onFailure: () => undefined });
    const now = Date.now();
    const path = fileOfDay(dir, now);
    const seen: boolean[] = [];
    let end = 0;
    const all = Array.from({ length: 2_000 }, (_, i) => {
      const rec = record(now, `r${i}`, { subject: `件名 ${i} ${'x'.repeat(i % 700)}` });
      // Where this record's line ends in the file, when the lines are in order.
      end += Buffer.byteLength(`${JSON.stringify(rec)}\n`);
      const lineEnd = end;
      return new Promise<void>((resolve) =>
        file.append(rec, () => {
          seen.push(statSync(path).size >= lineEnd);
          resolve();
        }),
      );
    });
    await Promise.all(all);
    await file.close();
    expect(seen.every(Boolean)).toBe(true);
    const ids = lines(path).map((l) => (JSON.parse(l) as SendRecord).id);
    expect(ids).toEqual(Array.from({ length: 2_000 }, (_, i) => `r${i}`));
  });

  it('a folder that cannot be made: onFailure with the system code, and the callback still runs', async () => {
    const parent = tempDir();
    writeFileSync(join(parent, 'file'), '');
    const failures: SendLogFailure[] = [];
    const file = new SendLogFile({ dir: join(parent, 'file', 'log'), retentionDays: 30, onFailure: (f) => failures.push(f) });
    await Promise.all([append(file, record(Date.now(), 'a')), append(file, record(Date.now(), 'b'))]);
    await file.close();
    expect(failures.map((f) => f.kind)).toContain('write');
    expect(failures.reduce((n, f) => n + Number(/could not record (\d+) message/.exec(f.message)?.[1]), 0)).toBe(2);
    expect(failures[0]!.message).toContain('(ENOTDIR)');
  });

  it('close() waits for queued records, then a later record opens the file again', async () => {
    const dir = tempDir();
    const file = new SendLogFile({ dir, retentionDays: 30, onFailure: () => undefined });
    const now = Date.now();
    let written = 0;
    for (let i = 0; i < 50; i++) file.append(record(now, `q${i}`), () => written++);
    await file.close();
    expect(written).toBe(50);
    await append(file, record(now, 'late'));
    await file.close();
    const path = fileOfDay(dir, now);
    expect(lines(path)).toHaveLength(51);
  });
  it('group commit: records a few milliseconds apart share one write, and each callback runs once its line is in the file', async () => {
    const dir = tempDir();
    const file = new SendLogFile({ dir, retentionDays: 30, onFailure: () => undefined });
    const now = Date.now();
    const path = fileOfDay(dir, now);
    const seenAtDone: number[] = [];
    const first = new Promise<void>((resolve) =>
      file.append(record(now, 'g1'), () => {
        seenAtDone.push(lines(path).length);
        resolve();
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 2));
    const second = new Promise<void>((resolve) =>
      file.append(record(now, 'g2'), () => {
        seenAtDone.push(lines(path).length);
        resolve();
      }),
    );
    await Promise.all([first, second]);
    // Written one by one, the first callback would have seen one line.
    expect(seenAtDone).toEqual([2, 2]);
    await file.close();
  });

  it('a record with no more on their way (moreComing false) is written at once, not after the window', async () => {
    const dir = tempDir();
    let more = true;
    const file = new SendLogFile({ dir, retentionDays: 30, onFailure: () => undefined, moreComing: () => more });
    const now = Date.now();
    const path = fileOfDay(dir, now);
    // The day's file is open after the first record.
    await append(file, record(now, 'm1'));
    const written: string[] = [];
    file.append(record(now, 'm2'), () => written.push('m2'));
    // A check-phase callback runs before the earliest timer of the window could fire.
    await new Promise((resolve) => setImmediate(resolve));
    expect(written).toEqual([]);
    more = false;
    file.append(record(now, 'm3'), () => written.push('m3'));
    // m2 goes out with m3, in order, in the same turn as the append.
    expect(written).toEqual(['m2', 'm3']);
    expect(lines(path).map((line) => (JSON.parse(line) as { id: string }).id)).toEqual(['m1', 'm2', 'm3']);
    await file.close();
  });

  it('an item whose record cannot be made: reported as a failed write, its callback runs, the others are written', async () => {
    const dir = tempDir();
    const failures: SendLogFailure[] = [];
    const file = new SendLogFile<{ id: string }>({
      dir,
      retentionDays: 30,
      onFailure: (f) => failures.push(f),
      build: (item) => {
        if (item.id === 'bad') throw new Error('a getter of the caller threw');
        return record(Date.now(), item.id);
      },
    });
    const done: string[] = [];
    for (const id of ['a', 'bad', 'b']) file.append({ id }, () => done.push(id));
    await file.close();
    expect(done).toEqual(['a', 'bad', 'b']);
    expect(failures.map((f) => f.kind)).toEqual(['write']);
    expect(failures[0]!.message).not.toContain('getter');
    const path = fileOfDay(dir, Date.now());
    expect(lines(path).map((l) => (JSON.parse(l) as SendRecord).id)).toEqual(['a', 'b']);
  });
});
