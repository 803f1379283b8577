import type { StrategyName } from '../strategies/index.js';
import type { RelayPreset } from '../strategies/relay.js';
import type { DkimOptions } from '../core/config.js';

/**
 * What a sending route asks of the From domain's DNS, from the provider's own documentation.
 * Each row cites where; the README's doctor section lists the same sources for people.
 */
export interface RouteProfile {
  /** Shown in the report, e.g. `Google (smtp.gmail.com)` or `SendGrid`. */
  label: string;
  /** The `include:` domain the provider documents for SPF; none when it documents none. */
  spfInclude?: string;
  /**
   * `from-domain`: the include goes in the From domain's own SPF record, and a route without it
   * fails SPF. `return-path`: the provider evaluates SPF on a return-path (bounce) domain it
   * sets up, so the From domain's record need not name it.
   */
  spfAt: 'from-domain' | 'return-path';
  /** The envelope sender (MAIL FROM) is the sender's own address, so SPF can align for DMARC. */
  spfAligns: boolean;
  /** DKIM selectors the provider documents; empty when it gives each domain its own. */
  dkimSelectors: readonly string[];
}

const GOOGLE: RouteProfile = {
  label: 'Google',
  // https://support.google.com/a/answer/10684623 (SPF for Google Workspace: include:_spf.google.com)
  spfInclude: '_spf.google.com',
  spfAt: 'from-domain',
  // Gmail sends with the account's (or alias's) address as MAIL FROM.
  spfAligns: true,
  // https://support.google.com/a/answer/174126 (the default DKIM prefix selector is "google")
  dkimSelectors: ['google'],
};

/** One row per relay preset; a new preset without a row here does not compile. */
const RELAYS = {
  // https://www.twilio.com/docs/sendgrid/ui/account-and-settings/how-to-set-up-domain-authentication
  // (automated security: CNAMEs em*.<domain> for the return path, s1._domainkey and s2._domainkey)
  sendgrid: { label: 'SendGrid', spfInclude: 'sendgrid.net', spfAt: 'return-path', spfAligns: false, dkimSelectors: ['s1', 's2'] },
  // https://docs.aws.amazon.com/ses/latest/dg/send-email-authentication-spf.html (include:amazonses.com on a
  // custom MAIL FROM subdomain); https://docs.aws.amazon.com/ses/latest/dg/send-email-authentication-dkim-easy.html
  // (Easy DKIM: three selectors generated per domain)
  ses: { label: 'Amazon SES', spfInclude: 'amazonses.com', spfAt: 'return-path', spfAligns: false, dkimSelectors: [] },
  // https://documentation.mailgun.com/docs/mailgun/user-manual/domains/domains-verify
  // (TXT "v=spf1 include:mailgun.org ~all"; the DKIM selector is shown in the control panel)
  mailgun: { label: 'Mailgun', spfInclude: 'mailgun.org', spfAt: 'from-domain', spfAligns: false, dkimSelectors: [] },
  // https://postmarkapp.com/blog/introducing-full-dmarc-support-with-custom (SPF on the Return-Path
  // domain, pm.mtasv.net or a custom one; the DKIM selector is generated per domain)
  postmark: { label: 'Postmark', spfInclude: 'spf.mtasv.net', spfAt: 'return-path', spfAligns: false, dkimSelectors: [] },
  // https://developers.brevo.com/docs/domain-authentication-and-verification (DKIM at mail._domainkey;
  // authentication is a Brevo code, DKIM and DMARC, with no SPF include)
  brevo: { label: 'Brevo', spfAt: 'return-path', spfAligns: false, dkimSelectors: ['mail'] },
  // https://documentation.mailjet.com/hc/en-us/articles/360049641733-Authenticating-Domains-with-SPF-and-DKIM-A-Complete-Guide
  // (TXT "v=spf1 include:spf.mailjet.com ~all" at the domain; DKIM at mailjet._domainkey)
  mailjet: { label: 'Mailjet', spfInclude: 'spf.mailjet.com', spfAt: 'from-domain', spfAligns: false, dkimSelectors: ['mailjet'] },
  // https://resend.com/docs/dashboard/domains/introduction (SPF and MX on the "send" return-path
  // subdomain, include:amazonses.com; DKIM at resend._domainkey)
  resend: { label: 'Resend', spfInclude: 'amazonses.com', spfAt: 'return-path', spfAligns: false, dkimSelectors: ['resend'] },
} satisfies Record<RelayPreset, RouteProfile>;

/** The route the doctor checks for: a strategy, and a relay's preset. */
export interface DoctorRoute {
  strategy: StrategyName;
  /** With `strategy: 'relay'`: the provider. */
  preset?: RelayPreset;
  /** With `strategy: 'relay'` and no preset: the relay's host, named in the report. */
  host?: string;
  /** The transport's `dkim` option: its selector is checked, and its key against the published one. */
  dkim?: DkimOptions;
  /** With `strategy: 'failover'`: each route, checked together. */
  transports?: readonly DoctorRoute[];
}

const GOOGLE_STRATEGIES = ['app-password', 'ip-relay', 'oauth2', 'service-account', 'gmail-api'] as const satisfies readonly StrategyName[];

/** The profiles a route sends through: one, or one per failover route; `undefined` rows are relays without a known profile. */
export function profilesOf(route: DoctorRoute): { profile?: RouteProfile; host?: string }[] {
  if (route.strategy === 'failover') return (route.transports ?? []).flatMap(profilesOf);
  if ((GOOGLE_STRATEGIES as readonly string[]).includes(route.strategy)) return [{ profile: GOOGLE }];
  if (route.preset && Object.hasOwn(RELAYS, route.preset)) return [{ profile: RELAYS[route.preset] }];
  return [{ ...(route.host ? { host: route.host } : {}) }];
}

/** Every preset name the doctor knows, for validating input. */
export const RELAY_PRESETS = Object.keys(RELAYS) as RelayPreset[];
