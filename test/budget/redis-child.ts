/**
 * One process of the shared-budget tests (redis.test.ts): an app-password transport whose
 * budget lives in Redis. Says `ready`, waits for `go` on stdin so that every process sends at
 * the same moment, sends SEND_COUNT messages at once and prints what happened as one JSON line.
 */
import { createInterface } from 'node:readline';
import Keyv from 'keyv';
import KeyvRedis from '@keyv/redis';
import { createGmailTransport, isGmailTransportError, type TransportEvents } from '../../src/index.js';
import { localSmtpFromEnv, need } from '../helpers/child-env.js';

const keyv = new Keyv(new KeyvRedis(need('REDIS_URL'), { throwOnConnectError: true, connectionTimeout: 2_000 }));
const user = need('MAILBOX');
const messagesPerDay = Number(process.env.MESSAGES_PER_DAY ?? Infinity);
const mailer = createGmailTransport({
  strategy: 'app-password',
  user,
  appPassword: need('APP_PASSWORD'),
  smtp: localSmtpFromEnv(),
  retry: false,
  budget: { messagesPerDay, store: keyv },
});
const warnings: TransportEvents['warning'][] = [];
mailer.on('warning', (w) => warnings.push(w));

const lines = createInterface({ input: process.stdin });
process.stdout.write('ready\n');
for await (const line of lines) {
  if (line.trim() === 'go') break;
}
const count = Number(need('SEND_COUNT'));
const outcomes = await Promise.all(
  Array.from({ length: count }, (_, i) =>
    mailer.sendMail({ from: user, to: `rcpt${i}@example.com`, subject: `from ${process.pid} #${i}`, text: 'x' }).then(
      () => ({ ok: true as const }),
      (err: unknown) => ({
        ok: false as const,
        code: isGmailTransportError(err) ? err.code : 'not typed',
        phase: isGmailTransportError(err) ? err.phase : undefined,
        retryAfterMs: isGmailTransportError(err) ? err.retryAfterMs : undefined,
      }),
    ),
  ),
);
const status = await mailer.budgetStatus();
mailer.close();
await keyv.disconnect();
process.stdout.write(`${JSON.stringify({ outcomes, warnings, status })}\n`);
process.exit(0);
