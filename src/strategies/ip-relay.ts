import type { Strategy, CommonOptions, SmtpOverride, SmtpEndpoint, SmtpAuth } from './types.js';
import { resolveSmtpEndpoint } from '../internal/smtp-endpoint.js';
import { parseAppPassword, parseMailbox } from '../internal/credentials.js';

/** Google Workspace's SMTP relay, which trusts the sender's IP registered in the admin console. */
export interface IpRelayConfig extends CommonOptions {
  strategy: 'ip-relay';
  /**
   * Your Workspace domain, sent as the EHLO name. The relay throttles or rejects a bare host
   * name or `[127.0.0.1]` (nodemailer's default when the machine's name is not a FQDN).
   */
  domain: string;
  /** Only for a relay set to "Require SMTP Authentication". */
  auth?: { user: string; appPassword: string };
  /** Endpoint override. @default smtp-relay.gmail.com:587, STARTTLS required */
  smtp?: SmtpOverride;
}

export interface IpRelayOptions {
  endpoint: SmtpEndpoint;
  auth?: SmtpAuth;
}

const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

export const ipRelay: Strategy<'ip-relay', IpRelayConfig, IpRelayOptions> = {
  name: 'ip-relay',
  keys: ['domain', 'auth', 'smtp'],
  parse(input, check) {
    const domain = check.string(input, 'domain', { required: true });
    if (domain !== undefined && !DOMAIN.test(domain)) {
      check.fail('domain', 'must be a fully qualified domain name such as example.com (it is sent as the EHLO name)');
    }
    let auth: SmtpAuth | undefined;
    const rawAuth = check.object(input, 'auth');
    if (rawAuth) {
      const at = check.at('auth');
      at.unknownKeys(rawAuth, ['user', 'appPassword']);
      const user = parseMailbox(at, rawAuth, 'user');
      const pass = parseAppPassword(at, rawAuth, 'appPassword');
      if (user && pass) auth = { kind: 'password', user, pass };
    }
    // Google: smtp-relay.gmail.com on 587 with TLS, https://support.google.com/a/answer/2956491
    const endpoint = resolveSmtpEndpoint(
      check,
      input,
      { host: 'smtp-relay.gmail.com', port: 587, secure: false, ...(domain ? { name: domain } : {}) },
      { credentials: rawAuth !== undefined },
    );
    if (!endpoint || !domain || !DOMAIN.test(domain) || (rawAuth && !auth)) return undefined;
    return { endpoint, ...(auth ? { auth } : {}) };
  },
  create: (options) => ({
    kind: 'smtp',
    endpoint: options.endpoint,
    ...(options.auth ? { auth: options.auth } : {}),
    errorContext: { authKind: options.auth ? 'app-password' : 'none' },
  }),
};
