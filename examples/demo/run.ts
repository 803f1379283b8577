import { createGmailTransport, isGmailTransportError, resolveConfig, type GmailTransportConfig } from '../../src/index.js';
import { entries as allEntries, type ConfigRun, type DemoContext, type DemoEntry, type DemoRun } from './entries.js';
import { startGoogleStandIn } from './google.js';
import { makeCertificate, startSmtpServer, type Sighting } from './server.js';

type Print = (line: string) => void;

/** Where a new user goes from here: the demo's last two lines. */
export const NEXT_STEPS = [
  'Next: pick the strategy for your account in the README ("Which strategy do I need?") and write its config with your own credentials.',
  'Then check it against Google, sending nothing: npx gmail-transport verify --config gmail.json (add --send-to you@example.com for one test message).',
] as const;

export interface DemoOptions {
  /** The deliveries to make. @default every entry of entries.ts */
  entries?: DemoEntry[];
  /** Where the report goes, line by line. @default console.log */
  print?: Print;
}

export interface DemoResult {
  total: number;
  /** Names of the entries whose message did not arrive. */
  failed: string[];
}

/**
 * Starts the local servers (two SMTP servers with TLS, the Google stand-in), makes each entry's
 * delivery in turn, prints what the servers saw and stops them again.
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const entries = options.entries ?? allEntries;
  const print = options.print ?? ((line: string) => console.log(line));
  const certificate = await makeCertificate();
  const google = await startGoogleStandIn();
  const implicitTls = await startSmtpServer({ secure: true, ...certificate, checkAccessToken: google.describeToken });
  const startTls = await startSmtpServer({ secure: false, ...certificate, checkAccessToken: google.describeToken });
  const ctx: DemoContext = { implicitTls, startTls, google, certificate };
  print('gmail-transport demo: local SMTP servers on 127.0.0.1 (TLS with a certificate made just now),');
  print(`and a stand-in for Google's token endpoint and Gmail API at ${google.base}.`);
  print('No Google account, no network: each strategy is pointed at them with `smtp` and `endpoints`.');
  print('');

  const failed: string[] = [];
  try {
    for (const [index, entry] of entries.entries()) {
      print(`${index + 1}. ${entry.name}: ${entry.about}`);
      if (!(await deliver(entry, ctx, print))) failed.push(entry.name);
      print('');
    }
  } finally {
    await Promise.all([implicitTls.close(), startTls.close(), google.close()]);
  }
  print(failed.length === 0 ? `${entries.length} deliveries, all received.` : `${failed.length} of ${entries.length} deliveries failed: ${failed.join(', ')}.`);
  print('');
  for (const line of NEXT_STEPS) print(line);
  return { total: entries.length, failed };
}

async function deliver(entry: DemoEntry, ctx: DemoContext, print: Print): Promise<boolean> {
  let run: DemoRun | undefined;
  try {
    run = await entry.setup(ctx);
    let subject: string;
    let messageId: string | undefined;
    if ('deliver' in run) {
      const outcome = await run.deliver(print);
      if (!outcome.delivered) throw new Error('the bridge did not answer 250 to the printer');
      subject = outcome.subject;
    } else {
      subject = `Hello through ${entry.name}`;
      messageId = await sendWithConfig(run, entry.name, subject, print);
    }
    const seen = run.inbox.find(subject);
    if (!seen) throw new Error('the message was accepted but did not arrive');
    printSighting(seen, run.standsFor ?? productionTarget('config' in run ? run.config : undefined), print);
    if (messageId) print(`   ${'message id'.padEnd(12)}${messageId}`);
    for (const [label, value] of run.notes?.() ?? []) print(`   ${label.padEnd(12)}${value}`);
    return true;
  } catch (err) {
    printFailure(err, print);
    return false;
  } finally {
    await run?.stop?.();
  }
}

async function sendWithConfig(run: ConfigRun, name: string, subject: string, print: Print): Promise<string> {
  const mailer = createGmailTransport(run.config);
  try {
    run.watch?.(mailer, print);
    const info = await mailer.sendMail({ ...run.message, subject, text: `Sent with the ${name} strategy of gmail-transport.` });
    return String(info.messageId);
  } finally {
    mailer.close();
  }
}

/** Where the same config goes without the demo's `smtp` override, e.g. `smtp.gmail.com:465`. */
function productionTarget(config: GmailTransportConfig | undefined): string | undefined {
  if (!config) return undefined;
  const { smtp: _override, ...withoutOverride } = config as GmailTransportConfig & { smtp?: unknown };
  try {
    const endpoint = (resolveConfig(withoutOverride).options as { endpoint?: { host: string; port: number } }).endpoint;
    return endpoint ? `${endpoint.host}:${endpoint.port}` : undefined;
  } catch {
    return undefined;
  }
}

function printSighting(seen: Sighting, standsFor: string | undefined, print: Print): void {
  const rows: [string, string | undefined][] = [
    ['received at', `${seen.at}${standsFor ? ` (standing in for ${standsFor})` : ''}`],
    ['channel', seen.channel],
    ['EHLO', seen.ehlo],
    ['AUTH', seen.auth],
    ['envelope', `${seen.envelope.from} -> ${seen.envelope.to.join(', ')}`],
    ['subject', seen.subject],
    ...(seen.notes ?? []),
  ];
  for (const [label, value] of rows) if (value) print(`   ${label.padEnd(12)}${value}`);
}

function printFailure(err: unknown, print: Print): void {
  if (isGmailTransportError(err)) {
    print(`   FAILED      ${err.code}: ${err.message}`);
    if (err.hint) print(`   hint        ${err.hint}`);
  } else {
    print(`   FAILED      ${err instanceof Error ? err.message : String(err)}`);
  }
}
