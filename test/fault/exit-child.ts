/**
 * The process of exit.test.ts: sends through the parent's fault proxy while it drops, refuses
 * and stalls connections, closes the transport, prints one JSON line and then simply returns.
 * No process.exit(): whatever the library left running (a socket, a timer) keeps it alive,
 * and the parent sees that it does not exit.
 */
import { createGmailTransport, isGmailTransportError } from '../../src/index.js';
import { localSmtpFromEnv, need, oauth2FromEnv } from '../helpers/child-env.js';

const escaped: string[] = [];
process.on('unhandledRejection', (reason) => escaped.push(`unhandledRejection: ${String(reason)}`));

const mailer = createGmailTransport({
  ...oauth2FromEnv(),
  smtp: {
    ...localSmtpFromEnv(),
    greetingTimeoutMs: 500,
    // Far longer than the parent's exit bound: an idle connection left open would be noticed.
    socketTimeoutMs: 60_000,
  },
  pool: true,
  maxConnections: 3,
  retry: { attempts: 4, minDelayMs: 1, maxDelayMs: 10 },
});

const outcomes = await Promise.all(
  Array.from({ length: Number(need('MESSAGES')) }, (_, i) =>
    mailer.sendMail({ from: 'me@gmail.com', to: 'you@example.com', subject: `exit ${i}`, text: 'x', headers: { 'X-Fault-Id': `x${i}` } }).then(
      () => 'ok',
      (err: unknown) => (isGmailTransportError(err) ? err.code : `untyped: ${String(err)}`),
    ),
  ),
);
mailer.close();
process.stdout.write(`${JSON.stringify({ outcomes, escaped })}\n`);
