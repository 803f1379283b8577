import { LOCALES, type Locale } from '../errors/hints.js';
import { checkDomain } from '../doctor/check-domain.js';
import { parseDnsServer } from '../doctor/dns.js';
import { renderText } from '../doctor/render.js';
import type { DoctorReport } from '../doctor/report.js';
import { RELAY_PRESETS, type DoctorRoute } from '../doctor/routes.js';
import { isDkimSelector } from '../config/dkim.js';
import { isDomainName } from '../core/validate.js';
import { loadConfig } from '../config/load-config.js';
import { strategies, type GmailTransportConfig, type StrategyName } from '../strategies/index.js';
import { diagnosisOf, EXIT_FAILED, EXIT_OK, parseCommandLine, printDiagnosis, printJson, UsageError, type CliIo } from './io.js';

export const DOCTOR_HELP = `Usage: gmail-transport doctor --domain DOMAIN [--config FILE | --strategy NAME [--preset NAME]] [options]

Checks the DNS of the domain you send from, for the route that sends: MX, SPF (one valid
record, at most 10 lookups, the route's servers authorised), DKIM keys, DMARC and alignment,
and Gmail's sender requirements for all senders and for 5,000+ messages a day. Where a check
fails or warns it prints the record to publish.

Options:
  --domain DOMAIN        the From domain, e.g. example.com (required)
  --config FILE          the transport config that sends (its strategy, preset and dkim option)
  --strategy NAME        or the strategy: ${Object.keys(strategies).join(', ')}
  --preset NAME          with --strategy relay: ${RELAY_PRESETS.join(', ')}
  --dkim-selector S      a DKIM selector to check (repeatable; default: google for Google
                         routes, the preset's documented selectors, the config's dkim selector)
  --dns-server IP[:PORT] ask this resolver instead of the system's
  --format text|json     output format (default: text)
  --locale en|ja         language of the report (default: en)
  -h, --help             show this help

Exit codes: 0 nothing failed (warnings allowed), 1 a check failed, 2 wrong command line.
`;

const OPTIONS = {
  domain: { type: 'string' },
  config: { type: 'string' },
  strategy: { type: 'string' },
  preset: { type: 'string' },
  'dkim-selector': { type: 'string', multiple: true },
  'dns-server': { type: 'string' },
  format: { type: 'string' },
  locale: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `gmail-transport doctor`: returns the exit code. */
export async function runDoctor(args: readonly string[], io: CliIo): Promise<number> {
  const flags = parseCommandLine(args, OPTIONS);
  if (flags.help) {
    io.stdout.write(DOCTOR_HELP);
    return EXIT_OK;
  }
  const domain = flags.domain?.trim();
  if (!domain) throw new UsageError('--domain is required (the domain you send from, e.g. example.com)');
  if (!isDomainName(domain)) throw new UsageError('--domain must be a domain name such as example.com');
  const format = flags.format ?? 'text';
  if (format !== 'text' && format !== 'json') throw new UsageError('--format must be text or json');
  const locale = (flags.locale ?? 'en') as Locale;
  if (!LOCALES.includes(locale)) throw new UsageError(`--locale must be one of ${LOCALES.join(', ')}`);
  if (flags.config !== undefined && flags.strategy !== undefined) throw new UsageError('give either --config or --strategy, not both');
  if (flags.strategy !== undefined && !Object.hasOwn(strategies, flags.strategy))
    throw new UsageError(`--strategy must be one of ${Object.keys(strategies).join(', ')}`);
  if (flags.preset !== undefined && flags.strategy !== 'relay') throw new UsageError('--preset goes with --strategy relay');
  if (flags.preset !== undefined && !(RELAY_PRESETS as readonly string[]).includes(flags.preset))
    throw new UsageError(`--preset must be one of ${RELAY_PRESETS.join(', ')}`);
  const selectors = flags['dkim-selector'] ?? [];
  if (selectors.some((s) => !isDkimSelector(s))) throw new UsageError('--dkim-selector must be a DNS label such as google or s1');
  if (flags['dns-server'] !== undefined && !parseDnsServer(flags['dns-server']))
    throw new UsageError('--dns-server must be an IP address with an optional port, e.g. 127.0.0.1:5353');

  let route: DoctorRoute | GmailTransportConfig | undefined;
  if (flags.strategy !== undefined)
    route = { strategy: flags.strategy as StrategyName, ...(flags.preset ? { preset: flags.preset as DoctorRoute['preset'] } : {}) };
  let report: DoctorReport;
  try {
    if (flags.config !== undefined) route = await loadConfig(flags.config, { env: io.env, cwd: io.cwd });
    report = await checkDomain({
      domain,
      ...(route ? { route } : {}),
      ...(selectors.length > 0 ? { dkimSelectors: selectors } : {}),
      ...(flags['dns-server'] !== undefined ? { dnsServer: flags['dns-server'] } : {}),
      locale,
    });
  } catch (err) {
    // Only the config file can be invalid here: the flags were checked above.
    printDiagnosis(io, 'gmail-transport doctor', diagnosisOf(err));
    return EXIT_FAILED;
  }
  printReport(io, report, format, locale);
  return exitCodeOf(report);
}

/** Prints a report as text or JSON on stdout. */
export function printReport(io: CliIo, report: DoctorReport, format: 'text' | 'json', locale: Locale): void {
  if (format === 'json') printJson(io, report);
  else io.stdout.write(renderText(report, locale));
}

/** 1 when a check failed, else 0: warnings (including checks that could not be made) do not fail the run. */
export function exitCodeOf(report: DoctorReport): number {
  return report.checks.some((c) => c.status === 'fail') ? EXIT_FAILED : EXIT_OK;
}
