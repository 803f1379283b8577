import type { Strategy } from './types.js';
import type { CommonOptions, SmtpOverride } from '../core/config.js';
import type { SmtpEndpoint } from '../core/smtp-plan.js';
import { GMAIL_SMTP, resolveSmtpEndpoint } from '../routes/smtp/smtp-endpoint.js';
import {
  MAIL_SCOPE,
  REFRESH_TOKEN_KEYS,
  createTokenSource,
  parseOAuthSettings,
  type OAuthSettings,
  type RefreshTokenCredentials,
  type TokenOptions,
} from '../tokens/oauth-config.js';

/**
 * Sends through smtp.gmail.com with SASL XOAUTH2, as the user who consented, with access
 * tokens refreshed from their refresh token (Google's recommended way for apps:
 * https://developers.google.com/workspace/gmail/imap/xoauth2-protocol).
 */
export interface OAuth2Config extends CommonOptions, RefreshTokenCredentials, TokenOptions {
  strategy: 'oauth2';
  /** Endpoint override. @default smtp.gmail.com:465, implicit TLS */
  smtp?: SmtpOverride;
}

/** The validated options `create` builds the SMTP plan from. */
export interface OAuth2Options {
  settings: OAuthSettings;
  endpoint: SmtpEndpoint;
}

export const oauth2: Strategy<'oauth2', OAuth2Config, OAuth2Options> = {
  name: 'oauth2',
  keys: [...REFRESH_TOKEN_KEYS, 'smtp'],
  parse(input, check) {
    const settings = parseOAuthSettings(check, input, { kind: 'refresh-token', defaultScopes: [MAIL_SCOPE] });
    const endpoint = resolveSmtpEndpoint(check, input, GMAIL_SMTP, { credentials: true });
    if (!settings || !endpoint) return undefined;
    return { settings, endpoint };
  },
  create: (options, ctx) => ({
    kind: 'smtp',
    endpoint: options.endpoint,
    auth: { kind: 'oauth2', user: options.settings.user, tokens: createTokenSource(options.settings, ctx, 'oauth2') },
    errorContext: { authKind: 'oauth2' },
  }),
  budgetSubject: (options) => ({ kind: 'mailbox', user: options.settings.user }),
};
