import { LOCALES, type Locale } from '../errors/hints.js';
import { strategies, type GmailTransportConfig, type StrategyName } from '../strategies/index.js';
import { isDkimSelector, parseDkim } from '../config/dkim.js';
import { ConfigChecker, isDomainName, isPlainObject, type Raw } from '../core/validate.js';
import { DEFAULT_DNS_LIMITS, DnsClient, parseDnsServer } from './dns.js';
import { buildReport, type DoctorReport } from './report.js';
import { RELAY_PRESETS, type DoctorRoute } from './routes.js';

/** Options of {@link checkDomain}. */
export interface CheckDomainOptions {
  /** The From domain to check, e.g. `example.com`. */
  domain: string;
  /**
   * The route that will send: `{ strategy: 'oauth2' }`, `{ strategy: 'relay', preset: 'sendgrid' }`,
   * or a whole transport config (as `loadConfig` returns it; its `dkim` key is then checked
   * against the published one). Without it, the checks that depend on the route warn.
   */
  route?: DoctorRoute | GmailTransportConfig;
  /** DKIM selectors to check. @default Google's `google` for Google routes; each relay preset's documented ones; the `dkim` option's selector */
  dkimSelectors?: readonly string[];
  /** Ask this resolver (`IP` or `IP:PORT`, `[IPv6]:PORT`) instead of the system's. */
  dnsServer?: string;
  /** Language of the details and advice. @default 'en' */
  locale?: Locale;
  /** One DNS question gives up after this long; the whole run stays within about three of these. @default 3000 */
  timeoutMs?: number;
}

const STRATEGY_NAMES = Object.keys(strategies) as StrategyName[];

/**
 * Checks a sending domain's DNS for the route that will send: MX, SPF (one valid record, at
 * most 10 lookups with includes followed, the route authorised), DKIM keys, DMARC and whether
 * SPF or DKIM can align, with Gmail's sender requirements as two verdicts. A resolver failure
 * is reported as a warning that the check could not be made, never as a pass.
 *
 * @throws GmailTransportError `CONFIG_INVALID` naming each invalid option, before any DNS query.
 * @example
 * ```ts
 * const report = await checkDomain({ domain: 'example.com', route: { strategy: 'oauth2' } });
 * for (const c of report.checks) if (c.status !== 'pass') console.log(c.id, c.detail, c.fix ?? '');
 * ```
 */
export async function checkDomain(options: CheckDomainOptions): Promise<DoctorReport> {
  const input = options as unknown as Raw;
  const check = new ConfigChecker();
  const locale = check.oneOf(input, 'locale', LOCALES) ?? 'en';
  const domain = check.string(input, 'domain', { required: true });
  if (domain !== undefined && !isDomainName(domain.trim())) check.fail('domain', 'must be a domain name such as example.com');
  const route = isPlainObject(input.route) || input.route === undefined ? parseRoute(check.at('route'), input.route as Raw | undefined) : undefined;
  if (input.route !== undefined && !isPlainObject(input.route)) check.fail('route', 'must be an object such as { strategy: "oauth2" } or a transport config');
  const dkim = isPlainObject(input.route) ? parseDkim(check.at('route'), input.route) : undefined;
  const selectors = parseSelectors(check, input.dkimSelectors);
  let servers: string[] | undefined;
  const dnsServer = check.string(input, 'dnsServer', { nonEmpty: true });
  if (dnsServer !== undefined) {
    const parsed = parseDnsServer(dnsServer);
    if (parsed) servers = [parsed];
    else check.fail('dnsServer', 'must be an IP address with an optional port, e.g. 192.0.2.53 or 127.0.0.1:5353 (no host names)');
  }
  const timeoutMs = check.integer(input, 'timeoutMs', { min: 100, max: 60_000 });
  check.throwIfAny(undefined, locale);

  const queryTimeoutMs = timeoutMs ?? DEFAULT_DNS_LIMITS.queryTimeoutMs;
  const client = new DnsClient(servers, {
    queryTimeoutMs,
    runTimeoutMs: queryTimeoutMs * (DEFAULT_DNS_LIMITS.runTimeoutMs / DEFAULT_DNS_LIMITS.queryTimeoutMs),
  });
  try {
    return await buildReport(client, {
      domain: domain!.trim(),
      ...(route ? { route } : {}),
      ...(dkim ? { dkim } : {}),
      dkimSelectors: selectors ?? [],
      locale,
    });
  } finally {
    client.close();
  }
}

/** Keeps what the doctor needs of a route or config, checking it; other keys of a config are ignored. */
function parseRoute(check: ConfigChecker, raw: Raw | undefined): DoctorRoute | undefined {
  if (raw === undefined) return undefined;
  const strategy = check.oneOf(raw, 'strategy', STRATEGY_NAMES, { required: true });
  const preset = strategy === 'relay' ? check.oneOf(raw, 'preset', RELAY_PRESETS) : undefined;
  const host = strategy === 'relay' ? check.string(raw, 'host', { nonEmpty: true }) : undefined;
  let transports: DoctorRoute[] | undefined;
  if (strategy === 'failover') {
    if (!Array.isArray(raw.transports) || raw.transports.length === 0) check.fail('transports', 'must list the failover routes');
    else
      transports = raw.transports.flatMap((item, i) =>
        isPlainObject(item) ? (parseRoute(check.at(`transports[${i}]`), item) ?? []) : (check.fail(`transports[${i}]`, 'must be an object'), []),
      );
  }
  if (!strategy) return undefined;
  return { strategy, ...(preset ? { preset } : {}), ...(host ? { host } : {}), ...(transports ? { transports } : {}) };
}

function parseSelectors(check: ConfigChecker, value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((s) => typeof s !== 'string' || !isDkimSelector(s))) {
    check.fail('dkimSelectors', 'must be a list of selectors such as ["google"] (DNS labels)');
    return undefined;
  }
  return value as string[];
}
