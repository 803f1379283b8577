import type { ConnectionOptions as TlsOptions } from 'node:tls';
import type { SmtpEndpoint } from '../../core/smtp-plan.js';
import type { ConfigChecker, Raw } from '../../core/validate.js';

const SMTP_KEYS = [
  'host',
  'port',
  'secure',
  'requireTLS',
  'tls',
  'name',
  'connectionTimeoutMs',
  'greetingTimeoutMs',
  'socketTimeoutMs',
  'dangerouslyAllowCredentialsInClear',
] as const;

/**
 * Gmail's SMTP submission endpoint, for every strategy that logs in to a Google account:
 * 465 with implicit TLS (587 with STARTTLS works too), https://support.google.com/mail/answer/7126229
 */
export const GMAIL_SMTP: EndpointDefaults = Object.freeze({ host: 'smtp.gmail.com', port: 465, secure: true });

/**
 * Recipients per message of servers that document a limit, by host: an account sending over
 * smtp.gmail.com, 100 (https://support.google.com/a/answer/166852). smtp-relay.gmail.com takes
 * more per transaction (https://support.google.com/a/answer/2956491); other hosts have their own.
 */
const MAX_RECIPIENTS_BY_HOST: Readonly<Record<string, number>> = Object.freeze({ 'smtp.gmail.com': 100 });

/** The documented recipient limit per message of `host`, if it has one. */
export function maxRecipientsOf(host: string): number | undefined {
  return MAX_RECIPIENTS_BY_HOST[host.toLowerCase()];
}

/** Where a strategy connects when the user does not override it. */
export interface EndpointDefaults {
  host?: string;
  port: number;
  secure: boolean;
  name?: string;
}

/**
 * Merges a strategy's endpoint defaults with the user's `smtp` override (library defaults,
 * then strategy defaults, then user options: the one merge order, see README "Config") and
 * checks the result: no impossible port/TLS pair, and no credentials on a channel with neither
 * TLS nor mandatory STARTTLS.
 */
export function resolveSmtpEndpoint(
  check: ConfigChecker,
  input: Raw,
  defaults: EndpointDefaults,
  opts: { credentials: boolean; requireHost?: boolean },
): SmtpEndpoint | undefined {
  const smtp = check.object(input, 'smtp') ?? {};
  const at = check.at('smtp');
  at.unknownKeys(smtp, SMTP_KEYS);
  const host = at.string(smtp, 'host', { nonEmpty: true }) ?? defaults.host;
  const port = at.integer(smtp, 'port', { min: 1, max: 65535 });
  const secure = at.boolean(smtp, 'secure');
  const requireTLS = at.boolean(smtp, 'requireTLS');
  const name = at.string(smtp, 'name', { nonEmpty: true }) ?? defaults.name;
  const tls = at.object(smtp, 'tls') as TlsOptions | undefined;
  const connectionTimeoutMs = at.integer(smtp, 'connectionTimeoutMs', { min: 1 });
  const greetingTimeoutMs = at.integer(smtp, 'greetingTimeoutMs', { min: 1 });
  const socketTimeoutMs = at.integer(smtp, 'socketTimeoutMs', { min: 1 });
  const allowClear = at.boolean(smtp, 'dangerouslyAllowCredentialsInClear') ?? false;

  if (!host) {
    if (opts.requireHost) check.fail('host', 'is required (or give a preset, or smtp.host)');
    return undefined;
  }
  const resolvedPort = port ?? (secure === undefined ? defaults.port : secure ? 465 : defaults.secure ? 587 : defaults.port);
  // An explicit port without `secure` decides TLS by convention: 465 is implicit TLS (RFC 8314).
  const resolvedSecure = secure ?? (port !== undefined ? port === 465 : defaults.secure);
  // Only what `smtp` itself sets is judged here; a strategy checks its own top-level fields
  // (relay's port/secure), so one mistake is reported once, under the path the user wrote.
  if (secure === true && resolvedPort === 587) {
    at.fail('secure', 'cannot be true on port 587, which starts in clear and upgrades with STARTTLS; use port 465 for implicit TLS');
  }
  if (secure === false && resolvedPort === 465) {
    at.fail('secure', 'cannot be false on port 465, which expects TLS from the first byte; use port 587 for STARTTLS');
  }
  const resolvedRequireTLS = resolvedSecure ? false : (requireTLS ?? true);
  if (resolvedSecure && requireTLS === false) {
    // Harmless but contradictory; implicit TLS already encrypts everything.
    at.fail('requireTLS', 'cannot be false with secure: true (the connection is TLS from the start)');
  }
  if (opts.credentials && !resolvedSecure && !resolvedRequireTLS && !allowClear) {
    at.fail(
      'requireTLS',
      'cannot be false when credentials are configured: they would cross the network unencrypted (set smtp.dangerouslyAllowCredentialsInClear for a trusted test server only)',
    );
  }
  return {
    host,
    port: resolvedPort,
    secure: resolvedSecure,
    requireTLS: resolvedRequireTLS,
    ...(name ? { name } : {}),
    ...(tls ? { tls } : {}),
    ...(connectionTimeoutMs ? { connectionTimeoutMs } : {}),
    ...(greetingTimeoutMs ? { greetingTimeoutMs } : {}),
    ...(socketTimeoutMs ? { socketTimeoutMs } : {}),
  };
}
