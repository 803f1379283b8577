import type { Strategy } from './types.js';
import type { CommonOptions, SmtpOverride } from '../core/config.js';
import type { SmtpEndpoint } from '../core/smtp-plan.js';
import { GMAIL_SMTP, resolveSmtpEndpoint } from '../routes/smtp/smtp-endpoint.js';
import {
  MAIL_SCOPE,
  SERVICE_ACCOUNT_KEYS,
  createTokenSource,
  parseOAuthSettings,
  type OAuthSettings,
  type ServiceAccountCredentials,
  type TokenOptions,
} from '../tokens/oauth-config.js';

/**
 * Sends through smtp.gmail.com with SASL XOAUTH2 as any mailbox of a Google Workspace domain,
 * with a service account granted domain-wide delegation for https://mail.google.com/
 * (https://developers.google.com/identity/protocols/oauth2/service-account#delegatingauthority).
 */
export interface ServiceAccountConfig extends CommonOptions, ServiceAccountCredentials, TokenOptions {
  strategy: 'service-account';
  /** Endpoint override. @default smtp.gmail.com:465, implicit TLS */
  smtp?: SmtpOverride;
}

/** The validated options `create` builds the SMTP plan from. */
export interface ServiceAccountOptions {
  settings: OAuthSettings;
  endpoint: SmtpEndpoint;
}

export const serviceAccount: Strategy<'service-account', ServiceAccountConfig, ServiceAccountOptions> = {
  name: 'service-account',
  keys: [...SERVICE_ACCOUNT_KEYS, 'smtp'],
  parse(input, check) {
    const settings = parseOAuthSettings(check, input, { kind: 'service-account', defaultScopes: [MAIL_SCOPE] });
    const endpoint = resolveSmtpEndpoint(check, input, GMAIL_SMTP, { credentials: true });
    if (!settings || !endpoint) return undefined;
    return { settings, endpoint };
  },
  create: (options, ctx) => ({
    kind: 'smtp',
    endpoint: options.endpoint,
    auth: { kind: 'oauth2', user: options.settings.user, tokens: createTokenSource(options.settings, ctx, 'service-account') },
    errorContext: { authKind: 'oauth2' },
  }),
  budgetSubject: (options) => ({ kind: 'mailbox', user: options.settings.user }),
};
