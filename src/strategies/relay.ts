import type { Strategy } from './types.js';
import type { CommonOptions, SmtpOverride } from '../core/config.js';
import type { SmtpEndpoint, SmtpAuth } from '../core/smtp-plan.js';
import { resolveSmtpEndpoint, type EndpointDefaults } from '../routes/smtp/smtp-endpoint.js';
import { normalizeAppPassword, parseSecret } from '../core/credentials.js';
import { isPlainObject } from '../core/validate.js';

/**
 * SMTP endpoints of providers that document them publicly. Each row cites where.
 * All use STARTTLS on 587 (465 works too with `port: 465`).
 */
const PRESETS = {
  // https://www.twilio.com/docs/sendgrid/for-developers/sending-email/integrating-with-the-smtp-api (user "apikey")
  sendgrid: () => ({ host: 'smtp.sendgrid.net', port: 587, secure: false }),
  // https://docs.aws.amazon.com/ses/latest/dg/smtp-connect.html (regional endpoints)
  ses: (region?: string) => ({ host: `email-smtp.${region}.amazonaws.com`, port: 587, secure: false }),
  // https://documentation.mailgun.com/docs/mailgun/user-manual/sending-messages ("Send via SMTP"; US and EU hosts)
  mailgun: (region?: string) => ({ host: region === 'eu' ? 'smtp.eu.mailgun.org' : 'smtp.mailgun.org', port: 587, secure: false }),
  // https://postmarkapp.com/developer/user-guide/send-email-with-smtp
  postmark: () => ({ host: 'smtp.postmarkapp.com', port: 587, secure: false }),
  // https://developers.brevo.com/docs/smtp-integration (formerly Sendinblue; an SMTP key, not an API key)
  brevo: () => ({ host: 'smtp-relay.brevo.com', port: 587, secure: false }),
  // https://dev.mailjet.com/smtp-relay/configuration/
  mailjet: () => ({ host: 'in-v3.mailjet.com', port: 587, secure: false }),
  // https://resend.com/docs/send-with-smtp (user "resend")
  resend: () => ({ host: 'smtp.resend.com', port: 587, secure: false }),
} satisfies Record<string, (region?: string) => EndpointDefaults>;

/** Providers with a built-in endpoint. */
export type RelayPreset = keyof typeof PRESETS;
const PRESET_NAMES = Object.keys(PRESETS) as RelayPreset[];
const REGIONAL: Partial<Record<RelayPreset, RegExp>> = { ses: /^[a-z]{2}(-[a-z]+)+-\d$/, mailgun: /^(us|eu)$/ };

/** Any external SMTP relay: SendGrid, Amazon SES, Mailgun, a local provider… */
export interface RelayConfig extends CommonOptions {
  strategy: 'relay';
  /** A provider whose endpoint is built in; `host` is then optional. */
  preset?: RelayPreset;
  /** With `preset: 'ses'` (e.g. `eu-west-1`, required) or `'mailgun'` (`us` or `eu`). */
  region?: string;
  host?: string;
  /** @default 587, or the preset's */
  port?: number;
  /** Implicit TLS. @default true on port 465, else false (STARTTLS, required) */
  secure?: boolean;
  /** Omit for a relay that trusts your IP. */
  auth?: { user: string; pass: string; method?: 'PLAIN' | 'LOGIN' };
  /** Endpoint override, applied last. */
  smtp?: SmtpOverride;
}

export interface RelayOptions {
  endpoint: SmtpEndpoint;
  auth?: SmtpAuth;
  credentialShape?: 'account-password';
}

export const relay: Strategy<'relay', RelayConfig, RelayOptions> = {
  name: 'relay',
  keys: ['preset', 'region', 'host', 'port', 'secure', 'auth', 'smtp'],
  parse(input, check) {
    const preset = check.oneOf(input, 'preset', PRESET_NAMES);
    const region = check.string(input, 'region', { nonEmpty: true });
    const regionRule = preset ? REGIONAL[preset] : undefined;
    if (preset === 'ses' && region === undefined)
      check.fail(
        'region',
        "is required with preset 'ses' (e.g. 'us-east-1')",
        "Give the AWS region your SES SMTP credentials were made in; they work only with that region's endpoint (email-smtp.<region>.amazonaws.com).",
      );
    if (region !== undefined && !regionRule) check.fail('region', preset ? `is not used by preset '${preset}'` : 'is only used with a preset');
    else if (region !== undefined && regionRule && !regionRule.test(region)) check.fail('region', `is not a valid region for preset '${preset}'`);
    const host = check.string(input, 'host', { nonEmpty: true });
    const port = check.integer(input, 'port', { min: 1, max: 65535 });
    const secure = check.boolean(input, 'secure');
    // `smtp` would silently win over the top-level field: a relay host written in two places
    // is a mistake, not an override.
    const smtp = isPlainObject(input.smtp) ? input.smtp : {};
    for (const key of ['host', 'port', 'secure'] as const) {
      if (input[key] !== undefined && smtp[key] !== undefined) {
        check.fail(
          key,
          `is set twice, here and as smtp.${key}: give the relay's ${key} in one place`,
          `Keep ${key} at the top level and remove smtp.${key} (or the other way round).`,
        );
      }
    }

    let auth: SmtpAuth | undefined;
    let credentialShape: 'account-password' | undefined;
    const rawAuth = check.object(input, 'auth');
    if (rawAuth) {
      const at = check.at('auth');
      at.unknownKeys(rawAuth, ['user', 'pass', 'method']);
      const user = at.string(rawAuth, 'user', { required: true });
      const pass = parseSecret(at, rawAuth, 'pass');
      const method = at.oneOf(rawAuth, 'method', ['PLAIN', 'LOGIN'] as const);
      if (user && pass) auth = { kind: 'password', user, pass, ...(method ? { method } : {}) };
      // A relay pointed at Gmail with something that is not an app password is the classic
      // post-2025-03-14 breakage; say so when Google refuses it.
      if (pass && !normalizeAppPassword(pass.reveal())) credentialShape = 'account-password';
    }

    const base = preset ? PRESETS[preset](region) : undefined;
    const defaults: EndpointDefaults = {
      ...((host ?? base?.host) ? { host: host ?? base?.host } : {}),
      port: port ?? (secure ? 465 : (base?.port ?? 587)),
      secure: secure ?? (port !== undefined ? port === 465 : (base?.secure ?? false)),
    };
    if (secure === true && port === 587) check.fail('secure', 'cannot be true on port 587; use port 465 for implicit TLS');
    if (secure === false && port === 465) check.fail('secure', 'cannot be false on port 465; use port 587 for STARTTLS');
    const endpoint = resolveSmtpEndpoint(check, input, defaults, { credentials: rawAuth !== undefined, requireHost: true });
    if (!endpoint || (rawAuth && !auth)) return undefined;
    const gmailHost = /(^|\.)gmail\.com$|googlemail\.com$/i.test(endpoint.host);
    return { endpoint, ...(auth ? { auth } : {}), ...(gmailHost && credentialShape ? { credentialShape } : {}) };
  },
  create: (options) => ({
    kind: 'smtp',
    endpoint: options.endpoint,
    ...(options.auth ? { auth: options.auth } : {}),
    errorContext: { authKind: options.auth ? 'password' : 'none', ...(options.credentialShape ? { credentialShape: options.credentialShape } : {}) },
  }),
  // A provider's own limits are per account: counted per host and login, only when configured.
  budgetSubject: (options) => ({ kind: 'relay', account: `${options.auth?.user ?? '-'}@${options.endpoint.host}:${options.endpoint.port}` }),
};
