/**
 * One of the processes of multi-process.test.ts: at START_AT, sends MESSAGES messages through a
 * pooled transport whose send log is LOG_DIR, and at the same time appends BULK large records
 * straight to the log's file writer; then prints what happened as one JSON line.
 */
import { createGmailTransport, type TransportEvents } from '../../src/index.js';
import { SendLogFile } from '../../src/send-log/file.js';
import { localSmtpFromEnv, need } from '../helpers/child-env.js';

const dir = need('LOG_DIR');
const name = need('CHILD');
const messages = Number(need('MESSAGES'));
const bulk = Number(need('BULK'));
const startAt = Number(need('START_AT'));

const mailer = createGmailTransport({
  strategy: 'app-password',
  user: 'me@gmail.com',
  appPassword: 'abcdabcdabcdabcd',
  smtp: localSmtpFromEnv(),
  pool: true,
  maxConnections: 3,
  maxMessages: Infinity,
  retry: false,
  sendLog: { dir, subjects: true },
});
const warnings: TransportEvents['warning'][] = [];
mailer.on('warning', (w) => warnings.push(w));
const failures: string[] = [];
const file = new SendLogFile({ dir, retentionDays: 30, onFailure: (f) => failures.push(f.message) });

await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt - Date.now())));

// Records of several kB: each spans page boundaries, where a non-atomic append would tear.
const subject = `${name} ${'月次報告'.repeat(700)}`;
const sends = Array.from({ length: messages }, (_, i) =>
  mailer.sendMail({ from: 'me@gmail.com', to: ['a@example.com', 'b@example.com'], subject, text: 'x', messageId: `<${name}-${i}@multi.test>` }),
);
const appends = Array.from(
  { length: bulk },
  (_, i) =>
    new Promise<void>((resolve) =>
      file.append(
        {
          id: `${name}-bulk-${i}`,
          time: new Date().toISOString(),
          strategy: 'app-password',
          from: 'me@gmail.com',
          to: ['c@example.com'],
          status: 'delivered',
          latencyMs: 1,
          attempts: 1,
          subject: `${name}:${'y'.repeat(3_000 + ((i * 997) % 6_000))}`,
        },
        resolve,
      ),
    ),
);
const results = await Promise.allSettled(sends);
await Promise.all(appends);
await file.close();
mailer.close();
process.stdout.write(`${JSON.stringify({ sent: results.filter((r) => r.status === 'fulfilled').length, warnings, failures })}\n`);
