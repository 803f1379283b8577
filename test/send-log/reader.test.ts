import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSendLog, type ReadSendLogOptions, type SendRecord } from '../../src/index.js';
import { parseTimeBound } from '../../src/send-log/reader.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const tempDir = tempDirs('send-log-read-');

function record(time: string, id: string, extra: Partial<SendRecord> = {}): SendRecord {
  return { id, time, strategy: 'app-password', from: 'me@gmail.com', to: ['you@example.com'], status: 'delivered', latencyMs: 5, attempts: 1, ...extra };
}
const line = (r: SendRecord) => `${JSON.stringify(r)}\n`;

async function ids(options: ReadSendLogOptions): Promise<string[]> {
  const out: string[] = [];
  for await (const r of readSendLog(options)) out.push(r.id);
  return out;
}

describe('readSendLog', () => {
  it('skips a line a crash cut short, at the end of a file or continued by a later record', async () => {
    const dir = tempDir();
    const whole = line(record('2024-05-07T10:00:00.000Z', 'first'));
    const cut = line(record('2024-05-07T10:00:01.000Z', 'cut-short')).slice(0, 60);
    const after = line(record('2024-05-07T10:00:02.000Z', 'written-after-the-crash'));
    const lastCut = line(record('2024-05-07T10:00:03.000Z', 'cut-at-the-end')).slice(0, 90);
    writeFileSync(join(dir, 'send-2024-05-07.jsonl'), `${whole}${cut}${after}not json at all\n\u0000\u0000\u0000\n{"id":"x"}\n${lastCut}`);
    expect(await ids({ dir })).toEqual(['written-after-the-crash', 'first']);
  });

  it('newest first across days, and within a file whose lines several processes appended out of order', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'send-2024-05-06.jsonl'), line(record('2024-05-06T23:59:59.999Z', 'day6')));
    writeFileSync(
      join(dir, 'send-2024-05-07.jsonl'),
      [
        record('2024-05-07T10:00:00.002Z', 'b'),
        record('2024-05-07T10:00:00.001Z', 'a'),
        record('2024-05-07T10:00:00.003Z', 'c'),
        record('2024-05-07T10:00:00.003Z', 'c2'),
      ]
        .map(line)
        .join(''),
    );
    writeFileSync(join(dir, 'unrelated.jsonl'), line(record('2030-01-01T00:00:00.000Z', 'not-a-log-file')));
    expect(await ids({ dir })).toEqual(['c2', 'c', 'b', 'a', 'day6']);
    expect(await ids({ dir, limit: 2 })).toEqual(['c2', 'c']);
  });

  it('filters: status, recipient or domain (any case), sender, account, time window', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'send-2024-05-07.jsonl'),
      [
        record('2024-05-07T01:00:00.000Z', 'p1', { account: 'printer-3f', client: '10.0.0.7', to: ['Tanaka@Example.co.jp'] }),
        record('2024-05-07T02:00:00.000Z', 'n1', { account: 'network:10.0.0.9', client: '10.0.0.9', status: 'deferred', code: 'TEMPORARY_FAILURE' }),
        record('2024-05-07T03:00:00.000Z', 'masked', { to: ['*@example.co.jp'], from: 'alerts@app.example.com' }),
        record('2024-05-07T04:00:00.000Z', 'u1', { status: 'uncertain', code: 'DELIVERY_UNCERTAIN', to: ['a@x.test', 'tanaka@example.co.jp'] }),
      ]
        .map(line)
        .join(''),
    );
    expect(await ids({ dir, status: 'deferred' })).toEqual(['n1']);
    expect(await ids({ dir, status: ['uncertain', 'deferred'] })).toEqual(['u1', 'n1']);
    expect(await ids({ dir, to: 'TANAKA@example.co.jp' })).toEqual(['u1', 'p1']);
    expect(await ids({ dir, to: '@Example.co.jp' })).toEqual(['u1', 'masked', 'p1']);
    expect(await ids({ dir, to: 'example.co.jp' })).toEqual([]);
    expect(await ids({ dir, from: '@app.example.com' })).toEqual(['masked']);
    expect(await ids({ dir, account: 'printer-3f' })).toEqual(['p1']);
    expect(await ids({ dir, account: 'network:10.0.0.9' })).toEqual(['n1']);
    expect(await ids({ dir, since: '2024-05-07T02:00:00Z', until: new Date('2024-05-07T03:00:00Z') })).toEqual(['masked', 'n1']);
    expect(await ids({ dir, since: Date.parse('2024-05-07T03:30:00Z') })).toEqual(['u1']);
  });

  describe('dates without a time are days of the local time zone', () => {
    const tz = process.env.TZ;
    afterEach(() => {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    });

    it('Asia/Tokyo: --since/--until 2024-05-07 is 2024-05-06T15:00Z to 2024-05-07T14:59:59.999Z', async () => {
      process.env.TZ = 'Asia/Tokyo';
      expect(parseTimeBound('2024-05-07', 'start')).toBe(Date.parse('2024-05-06T15:00:00Z'));
      expect(parseTimeBound('2024-05-07', 'end')).toBe(Date.parse('2024-05-07T14:59:59.999Z'));
      expect(parseTimeBound('2024-05-07T09:30', 'start')).toBe(Date.parse('2024-05-07T00:30:00Z'));
      expect(parseTimeBound('2024-05-07 09:30:15', 'start')).toBe(Date.parse('2024-05-07T00:30:15Z'));
      expect(parseTimeBound('2024-05-07T09:30+0900', 'start')).toBe(Date.parse('2024-05-07T00:30:00Z'));
      expect(parseTimeBound('2024-05-07T00:30Z', 'start')).toBe(Date.parse('2024-05-07T00:30:00Z'));
      const dir = tempDir();
      writeFileSync(
        join(dir, 'send-2024-05-06.jsonl'),
        [record('2024-05-06T14:59:59.999Z', 'jst-6th'), record('2024-05-06T15:00:00.000Z', 'jst-7th-start')].map(line).join(''),
      );
      writeFileSync(
        join(dir, 'send-2024-05-07.jsonl'),
        [record('2024-05-07T14:59:59.999Z', 'jst-7th-end'), record('2024-05-07T15:00:00.000Z', 'jst-8th')].map(line).join(''),
      );
      expect(await ids({ dir, since: '2024-05-07', until: '2024-05-07' })).toEqual(['jst-7th-end', 'jst-7th-start']);
    });

    it.each(['2024-02-30', '2023-02-29', '2024-00-10', '2024-05-07T24:00', '2024-05-07T12:60', '07/05/2024', 'today', ''])('%j is not a date', (text) => {
      expect(parseTimeBound(text, 'start')).toBeUndefined();
    });
  });

  it('bad options: CONFIG_INVALID naming each one, when called', () => {
    const call = (options: unknown) => () => readSendLog(options as ReadSendLogOptions);
    expect(call({ dir: '', since: 'soon', until: new Date('x'), status: 'bounced', to: 3, limit: 0 })).toThrowError(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        issues: [
          { path: 'dir', message: 'must be a non-empty string', hint: expect.any(String) },
          expect.objectContaining({ path: 'since' }),
          expect.objectContaining({ path: 'until' }),
          expect.objectContaining({ path: 'status' }),
          expect.objectContaining({ path: 'to' }),
          { path: 'limit', message: 'must be a positive integer', hint: expect.any(String) },
        ],
      }) as Error,
    );
    expect(call({ dir: '/x', since: '2024-05-08', until: '2024-05-07' })).toThrowError(/since is after until/);
  });

  it('a folder that does not exist: CONFIG_INVALID naming dir, at the first read', async () => {
    const iterator = readSendLog({ dir: join(tempDir(), 'missing') });
    await expect(iterator.next()).rejects.toMatchObject({ code: 'CONFIG_INVALID', issues: [{ path: 'dir', message: 'is not a folder with a send log' }] });
  });
});
