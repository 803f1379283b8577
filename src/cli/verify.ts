import { createGmailTransport, type GmailTransporter } from '../transport/create.js';
import { isGmailTransportError } from '../errors/error.js';
import { mapError } from '../errors/map-error.js';
import { envVariableForField, fromEnv } from '../config/from-env.js';
import { loadConfig } from '../config/load-config.js';
import type { GmailTransportConfig } from '../strategies/index.js';
import { checkDomain } from '../doctor/check-domain.js';
import type { DoctorReport } from '../doctor/report.js';
import type { Locale } from '../errors/hints.js';
import { isDomainName } from '../core/validate.js';
import { exitCodeOf, printReport } from './doctor.js';
import { diagnosisOf, EXIT_FAILED, EXIT_OK, parseCommandLine, printDiagnosis, printJson, UsageError, type CliIo, type Diagnosis } from './io.js';

export const VERIFY_HELP = `Usage: gmail-transport verify [--config FILE | --env-prefix PREFIX] [--send-to ADDRESS] [options]

Builds the transport from a config, connects, authenticates and reports what happened, as a
typed diagnosis (code, phase, server response, hint). Sends nothing unless --send-to is given.

The config comes from --config FILE (JSON; any string may be { "env": "NAME" } or
{ "file": "path" }, see loadConfig) or else from environment variables (GMAIL_STRATEGY,
GMAIL_USER, GMAIL_APP_PASSWORD, GMAIL_CLIENT_ID, GMAIL_CLIENT_SECRET, GMAIL_REFRESH_TOKEN,
GMAIL_SERVICE_ACCOUNT_FILE, GMAIL_SMTP_HOST, ... see fromEnv in docs/cli.md).

Options:
  --config FILE         JSON config file
  --env-prefix PREFIX   prefix of the environment variables (default: GMAIL_)
  --send-to ADDRESS     also send one short test message to ADDRESS
  --from ADDRESS        sender of the test message (default: the config's user)
  --json                print the result as JSON on stdout
  --doctor              also check the sender's domain (SPF, DKIM, DMARC, MX) for this
                        route, as "gmail-transport doctor" does
  --dns-server IP[:PORT] with --doctor: ask this resolver instead of the system's
  -h, --help            show this help

Exit codes: 0 verified (and sent; with --doctor, no check failed), 1 failed (diagnosis
printed), 2 wrong command line.
`;

const OPTIONS = {
  config: { type: 'string' },
  'env-prefix': { type: 'string' },
  'send-to': { type: 'string' },
  from: { type: 'string' },
  json: { type: 'boolean' },
  doctor: { type: 'boolean' },
  'dns-server': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `gmail-transport verify`: returns the exit code. */
export async function runVerify(args: readonly string[], io: CliIo): Promise<number> {
  const flags = parseCommandLine(args, OPTIONS);
  if (flags.help) {
    io.stdout.write(VERIFY_HELP);
    return EXIT_OK;
  }
  if (flags.config !== undefined && flags['env-prefix'] !== undefined) throw new UsageError('give either --config or --env-prefix, not both');
  const prefix = flags['env-prefix'] ?? 'GMAIL_';
  const fromEnvironment = flags.config === undefined;
  if (flags['dns-server'] !== undefined && !flags.doctor) throw new UsageError('--dns-server goes with --doctor');
  let doctorLocale: Locale = 'en';
  const fail = (diagnosis: Diagnosis, strategy?: string, doctor?: DoctorReport): number => {
    if (flags.json) {
      printJson(io, { ok: false, error: diagnosis, ...(doctor ? { doctor } : {}) });
    } else {
      // A config built from variables is fixed in the variables: name them beside the fields.
      const annotate = fromEnvironment && strategy ? (path: string) => withVariable(path, strategy, prefix) : undefined;
      printDiagnosis(io, 'gmail-transport verify', diagnosis, annotate);
      if (doctor) printReport(io, doctor, 'text', doctorLocale);
    }
    return EXIT_FAILED;
  };

  let config: GmailTransportConfig;
  let mailer: GmailTransporter;
  try {
    config = fromEnvironment ? fromEnv(io.env, prefix) : await loadConfig(flags.config!, { env: io.env, cwd: io.cwd });
  } catch (err) {
    return fail(diagnosisOf(err));
  }
  const strategy = String((config as { strategy?: unknown }).strategy);
  try {
    mailer = createGmailTransport(config);
  } catch (err) {
    return fail(diagnosisOf(isGmailTransportError(err) ? err : mapError(err, { strategy })), strategy);
  }

  const from = flags.from ?? senderOf(config);
  if (flags['send-to'] !== undefined && !from) {
    mailer.close();
    throw new UsageError('--send-to needs --from: this config names no user to send as');
  }
  const doctorDomain = flags.doctor ? sendingDomainOf(from, config) : undefined;
  if (flags.doctor && !doctorDomain) {
    mailer.close();
    throw new UsageError("--doctor needs the sender's domain: give --from ADDRESS");
  }
  doctorLocale = config.locale ?? 'en';
  const runDoctor = async (): Promise<DoctorReport | undefined> =>
    doctorDomain
      ? checkDomain({
          domain: doctorDomain,
          route: config,
          locale: doctorLocale,
          ...(flags['dns-server'] !== undefined ? { dnsServer: flags['dns-server'] } : {}),
        })
      : undefined;
  try {
    await mailer.verify();
    let sent: { messageId: string; accepted: unknown[]; rejected: unknown[]; response: string } | undefined;
    if (flags['send-to'] !== undefined) {
      const info = await mailer.sendMail({
        from,
        to: flags['send-to'],
        subject: 'gmail-transport verify',
        text: `Test message from "gmail-transport verify" (strategy ${strategy}), sent ${new Date().toISOString()}.\n`,
      });
      sent = {
        messageId: String(info.messageId),
        accepted: info.accepted as unknown[],
        rejected: info.rejected as unknown[],
        response: String(info.response ?? ''),
      };
    }
    const doctor = await runDoctor();
    if (flags.json) {
      printJson(io, { ok: true, strategy, ...(sent ? { sent } : {}), ...(doctor ? { doctor } : {}) });
    } else {
      io.stdout.write(`gmail-transport verify: OK (strategy ${strategy}${userOf(config) ? `, user ${userOf(config)}` : ''}): ${whatWasChecked(config)}.\n`);
      if (sent) io.stdout.write(`Test message ${sent.messageId} accepted for ${sent.accepted.map(String).join(', ')}: ${sent.response}\n`);
      else io.stdout.write('Nothing was sent (add --send-to ADDRESS to send a test message).\n');
      if (doctor) printReport(io, doctor, 'text', doctorLocale);
    }
    return doctor ? exitCodeOf(doctor) : EXIT_OK;
  } catch (err) {
    const doctor = await runDoctor().catch(() => undefined);
    return fail(diagnosisOf(mapError(err, { strategy })), strategy, doctor);
  } finally {
    mailer.close();
  }
}

/** The domain the doctor checks: the sender's, else the `dkim` option's, else ip-relay's `domain`. */
function sendingDomainOf(from: string | undefined, config: GmailTransportConfig): string | undefined {
  const c = config as { dkim?: { domainName?: unknown }; domain?: unknown };
  const domain = from?.includes('@')
    ? from.slice(from.lastIndexOf('@') + 1).replace(/>$/, '')
    : typeof c.dkim?.domainName === 'string'
      ? c.dkim.domainName
      : typeof c.domain === 'string'
        ? c.domain
        : undefined;
  return domain && isDomainName(domain) ? domain : undefined;
}

/**
 * What a successful verify proved. A relay without credentials is only connected to: saying
 * "authenticated" would claim a login that never happened.
 */
function whatWasChecked(config: GmailTransportConfig): string {
  const c = config as { strategy?: unknown; auth?: unknown };
  if ((c.strategy === 'relay' || c.strategy === 'ip-relay') && c.auth === undefined) return 'connected; this config has no credentials, so no login was made';
  // A failover verifies when one of its routes does; a route that failed is a warning.
  if (c.strategy === 'failover') return 'ready: at least one route connected, and logged in where it has credentials';
  return 'connected and authenticated';
}

function withVariable(path: string, strategy: string, prefix: string): string {
  const variable = envVariableForField(path, strategy, prefix);
  return variable ? `${path} (${variable})` : path;
}

function userOf(config: GmailTransportConfig): string | undefined {
  const c = config as { user?: unknown; auth?: { user?: unknown } };
  if (typeof c.user === 'string') return c.user;
  return typeof c.auth?.user === 'string' ? c.auth.user : undefined;
}

/** The sender of the test message: the account itself, where the config names one as an address. */
function senderOf(config: GmailTransportConfig): string | undefined {
  const user = userOf(config);
  return user && user.includes('@') ? user : undefined;
}
