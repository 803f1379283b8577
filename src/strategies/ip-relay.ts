import type { Strategy } from './types.js';
import type { CommonOptions, SmtpOverride } from '../core/config.js';
import type { SmtpEndpoint, SmtpAuth } from '../core/smtp-plan.js';
import { isDomainName, type ConfigChecker, type Raw } from '../core/validate.js';
import { resolveSmtpEndpoint } from '../routes/smtp/smtp-endpoint.js';
import { parseAppPassword, parseMailbox } from '../core/credentials.js';
import {
  MAIL_SCOPE,
  REFRESH_TOKEN_KEYS,
  SERVICE_ACCOUNT_KEYS,
  createTokenSource,
  parseOAuthSettings,
  type OAuthSettings,
  type RefreshTokenCredentials,
  type ServiceAccountCredentials,
  type TokenOptions,
} from '../tokens/oauth-config.js';

/** Credentials for a relay set to "Require SMTP Authentication": an app password or OAuth. */
export type IpRelayAuth =
  | { type?: 'app-password'; user: string; appPassword: string }
  | ({ type: 'oauth2' } & RefreshTokenCredentials & TokenOptions)
  | ({ type: 'service-account' } & ServiceAccountCredentials & TokenOptions);

/** Google Workspace's SMTP relay, which trusts the sender's IP registered in the admin console. */
export interface IpRelayConfig extends CommonOptions {
  strategy: 'ip-relay';
  /**
   * Your Workspace domain, sent as the EHLO name. The relay throttles or rejects a bare host
   * name or `[127.0.0.1]` (nodemailer's default when the machine's name is not a FQDN).
   */
  domain: string;
  /**
   * Only for a relay set to "Require SMTP Authentication": an app password
   * (`{ user, appPassword }`), or OAuth (`{ type: 'oauth2', user, clientId, clientSecret,
   * refreshToken }` or `{ type: 'service-account', user, serviceAccount | keyFile }`).
   */
  auth?: IpRelayAuth;
  /** Endpoint override. @default smtp-relay.gmail.com:587, STARTTLS required */
  smtp?: SmtpOverride;
}

/** The validated options `create` builds the SMTP plan from. */
export interface IpRelayOptions {
  endpoint: SmtpEndpoint;
  auth?: Extract<SmtpAuth, { kind: 'password' }> | { kind: 'oauth'; settings: OAuthSettings };
}

export const ipRelay: Strategy<'ip-relay', IpRelayConfig, IpRelayOptions> = {
  name: 'ip-relay',
  keys: ['domain', 'auth', 'smtp'],
  parse(input, check) {
    const domain = check.string(input, 'domain', { required: true });
    if (domain !== undefined && !isDomainName(domain)) {
      check.fail(
        'domain',
        'must be a fully qualified domain name such as example.com (it is sent as the EHLO name)',
        'Use your Google Workspace domain, the part after @ in its addresses (example.com), not a host name or an IP address.',
      );
    }
    const rawAuth = check.object(input, 'auth');
    const auth = rawAuth ? parseRelayAuth(check.at('auth'), rawAuth) : undefined;
    // Google: smtp-relay.gmail.com on 587 with TLS, https://support.google.com/a/answer/2956491
    const endpoint = resolveSmtpEndpoint(
      check,
      input,
      { host: 'smtp-relay.gmail.com', port: 587, secure: false, ...(domain ? { name: domain } : {}) },
      { credentials: rawAuth !== undefined },
    );
    if (!endpoint || !domain || !isDomainName(domain) || (rawAuth && !auth)) return undefined;
    return { endpoint, ...(auth ? { auth } : {}) };
  },
  create: (options, ctx) => {
    const auth = options.auth;
    if (auth?.kind === 'oauth') {
      return {
        kind: 'smtp',
        endpoint: options.endpoint,
        auth: { kind: 'oauth2', user: auth.settings.user, tokens: createTokenSource(auth.settings, ctx, 'ip-relay') },
        errorContext: { authKind: 'oauth2' },
      };
    }
    return {
      kind: 'smtp',
      endpoint: options.endpoint,
      ...(auth ? { auth } : {}),
      errorContext: { authKind: auth ? 'app-password' : 'none' },
    };
  },
  // The relay's per-user limits count per envelope sender, whoever logs in.
  budgetSubject: () => ({ kind: 'relay-sender' }),
};

function parseRelayAuth(at: ConfigChecker, rawAuth: Raw): IpRelayOptions['auth'] {
  const type = at.oneOf(rawAuth, 'type', ['app-password', 'oauth2', 'service-account'] as const) ?? (rawAuth.type === undefined ? 'app-password' : undefined);
  if (type === 'oauth2' || type === 'service-account') {
    at.unknownKeys(rawAuth, ['type', ...(type === 'oauth2' ? REFRESH_TOKEN_KEYS : SERVICE_ACCOUNT_KEYS)]);
    const settings = parseOAuthSettings(at, rawAuth, { kind: type === 'oauth2' ? 'refresh-token' : 'service-account', defaultScopes: [MAIL_SCOPE] });
    return settings ? { kind: 'oauth', settings } : undefined;
  }
  if (type === undefined) return undefined;
  at.unknownKeys(rawAuth, ['type', 'user', 'appPassword']);
  const user = parseMailbox(at, rawAuth, 'user');
  const pass = parseAppPassword(at, rawAuth, 'appPassword');
  return user && pass ? { kind: 'password', user, pass } : undefined;
}
