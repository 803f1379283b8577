/**
 * `npm run demo`: sends one message through each strategy to local servers on 127.0.0.1 (TLS
 * with a certificate made on the fly) and prints what the servers saw. No Google account and
 * no network. Exits 0 when every message arrived, 1 otherwise.
 *
 * The deliveries are listed in examples/demo/entries.ts; the servers live in
 * examples/demo/server.ts.
 */
import { createGmailTransport, isGmailTransportError, resolveConfig, type GmailTransportConfig } from '../src/index.js';
import { entries, type DemoEntry } from './demo/entries.js';
import { makeCertificate, startSmtpServer, type Sighting } from './demo/server.js';

const DEADLINE_MS = 20_000;

async function main(): Promise<number> {
  const deadline = setTimeout(() => {
    console.error(`\ndemo: no result after ${DEADLINE_MS / 1000} s, giving up`);
    process.exit(1);
  }, DEADLINE_MS);
  deadline.unref();

  const { key, cert } = await makeCertificate();
  const implicitTls = await startSmtpServer({ secure: true, key, cert });
  const startTls = await startSmtpServer({ secure: false, key, cert });
  console.log('gmail-transport demo: local SMTP servers on 127.0.0.1, TLS with a certificate made just now.');
  console.log('No Google account, no network: each strategy is pointed at them with `smtp`.\n');

  let failed = 0;
  try {
    for (const [index, entry] of entries.entries()) {
      console.log(`${index + 1}. ${entry.name}: ${entry.about}`);
      const ok = await deliver(entry, { implicitTls, startTls });
      if (!ok) failed++;
      console.log('');
    }
  } finally {
    await implicitTls.close();
    await startTls.close();
  }
  console.log(failed === 0 ? `${entries.length} deliveries, all received.` : `${failed} of ${entries.length} deliveries failed.`);
  return failed === 0 ? 0 : 1;
}

async function deliver(entry: DemoEntry, ctx: Parameters<DemoEntry['setup']>[0]): Promise<boolean> {
  const run = await entry.setup(ctx);
  const subject = `Hello through ${entry.name}`;
  try {
    const mailer = createGmailTransport(run.config);
    try {
      const info = await mailer.sendMail({ from: entry.from, to: entry.to, subject, text: `Sent with the ${entry.name} strategy of gmail-transport.` });
      const seen = run.inbox.find(subject);
      if (!seen) throw new Error('the server accepted the message but did not record it');
      printSighting(seen, info.messageId, productionTarget(run.config));
      return true;
    } finally {
      mailer.close();
    }
  } catch (err) {
    printFailure(err);
    return false;
  } finally {
    await run.stop?.();
  }
}

/** Where the same config goes without the demo's `smtp` override, e.g. `smtp.gmail.com:465`. */
function productionTarget(config: GmailTransportConfig): string | undefined {
  const { smtp: _override, ...withoutOverride } = config as GmailTransportConfig & { smtp?: unknown };
  try {
    const endpoint = (resolveConfig(withoutOverride).options as { endpoint?: { host: string; port: number } }).endpoint;
    return endpoint ? `${endpoint.host}:${endpoint.port}` : undefined;
  } catch {
    return undefined;
  }
}

function printSighting(seen: Sighting, messageId: string, standsFor: string | undefined): void {
  const rows: [string, string | undefined][] = [
    ['received at', `${seen.at}${standsFor ? ` (standing in for ${standsFor})` : ''}`],
    ['TLS', seen.channel],
    ['EHLO', seen.ehlo],
    ['AUTH', seen.auth],
    ['envelope', `${seen.envelope.from} -> ${seen.envelope.to.join(', ')}`],
    ['subject', seen.subject],
    ['message id', messageId],
  ];
  for (const [label, value] of rows) if (value) console.log(`   ${label.padEnd(12)}${value}`);
}

function printFailure(err: unknown): void {
  if (isGmailTransportError(err)) {
    console.log(`   FAILED      ${err.code}: ${err.message}`);
    if (err.hint) console.log(`   hint        ${err.hint}`);
  } else {
    console.log(`   FAILED      ${err instanceof Error ? err.message : String(err)}`);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error('demo failed:', err);
    process.exit(1);
  },
);
