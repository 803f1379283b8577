import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSendLog, type SendRecord } from '../../src/index.js';
import { startScriptedServer } from '../helpers/scripted-smtp.js';
import { runChild } from '../helpers/child-run.js';

const CHILD = fileURLToPath(new URL('./multi-process-child.ts', import.meta.url));
const PROCESSES = 4;
const MESSAGES = 100;
const BULK = 600;

const dir = mkdtempSync(join(tmpdir(), 'send-log-multi-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Report {
  sent: number;
  warnings: unknown[];
  failures: string[];
}

describe('several processes writing one send-log folder (issue 21)', () => {
  it('4 processes: no record lost, no bytes interleaved, every line a whole record', async () => {
    const server = await startScriptedServer({ script: { replies: { dot: '250 2.0.0 OK  1715071234 mp1sm1.1 - gsmtp' } } });
    try {
      // Every process starts sending at the same moment, once all have loaded.
      const startAt = String(Date.now() + 4_000);
      const children = await Promise.all(
        Array.from({ length: PROCESSES }, (_, n) =>
          runChild<Report>(
            CHILD,
            {
              LOG_DIR: dir,
              CHILD: `p${n}`,
              MESSAGES: String(MESSAGES),
              BULK: String(BULK),
              START_AT: startAt,
              SMTP_PORT: String(server.port),
              SMTP_CA: server.cert,
            },
            { exitBoundMs: 10_000 },
          ),
        ),
      );
      for (const child of children) {
        expect(child.exit, child.stderr).toBe(0);
        expect(child.report).toEqual({ sent: MESSAGES, warnings: [], failures: [] });
      }
      expect(server.accepted).toBe(PROCESSES * MESSAGES);

      const ids: string[] = [];
      for (const name of readdirSync(dir)) {
        const text = readFileSync(join(dir, name), 'utf8');
        expect(text.endsWith('\n'), `${name} ends with a whole line`).toBe(true);
        for (const line of text.slice(0, -1).split('\n')) {
          // One JSON object per line: a line holding parts of two writes would not parse.
          const record = JSON.parse(line) as SendRecord;
          ids.push(record.messageId ?? record.id);
          // A subject is kept to 1,000 characters in a record.
          if (record.messageId) expect(record.subject).toBe(`${record.messageId.slice(1, 3)} ${'月次報告'.repeat(700)}`.slice(0, 999) + '…');
          else expect(record.subject!.startsWith(`${record.id.slice(0, 2)}:yyy`)).toBe(true);
        }
      }
      const expected = Array.from({ length: PROCESSES }, (_, n) => [
        ...Array.from({ length: MESSAGES }, (_, i) => `<p${n}-${i}@multi.test>`),
        ...Array.from({ length: BULK }, (_, i) => `p${n}-bulk-${i}`),
      ]).flat();
      expect(ids.length).toBe(expected.length);
      expect(new Set(ids)).toEqual(new Set(expected));

      let read = 0;
      for await (const _ of readSendLog({ dir })) read++;
      expect(read).toBe(expected.length);
    } finally {
      await server.close();
    }
  }, 120_000);
});
