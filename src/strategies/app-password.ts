import type { Strategy } from './types.js';
import type { CommonOptions, SmtpOverride } from '../core/config.js';
import type { SmtpEndpoint } from '../core/smtp-plan.js';
import { Secret } from '../core/secret.js';
import { GMAIL_SMTP, resolveSmtpEndpoint } from '../routes/smtp/smtp-endpoint.js';
import { parseAppPassword, parseMailbox } from '../core/credentials.js';

/** Sends through smtp.gmail.com with a Google app password (needs 2-Step Verification). */
export interface AppPasswordConfig extends CommonOptions {
  strategy: 'app-password';
  /** The Google account the app password belongs to, e.g. `me@gmail.com`. */
  user: string;
  /** The 16-letter app password; Google's display form with spaces (`abcd efgh ijkl mnop`) is fine. */
  appPassword: string;
  /** Endpoint override. @default smtp.gmail.com:465, implicit TLS */
  smtp?: SmtpOverride;
}

export interface AppPasswordOptions {
  user: string;
  pass: Secret;
  endpoint: SmtpEndpoint;
}

export const appPassword: Strategy<'app-password', AppPasswordConfig, AppPasswordOptions> = {
  name: 'app-password',
  keys: ['user', 'appPassword', 'smtp'],
  parse(input, check) {
    const user = parseMailbox(check, input, 'user');
    const pass = parseAppPassword(check, input, 'appPassword');
    const endpoint = resolveSmtpEndpoint(check, input, GMAIL_SMTP, { credentials: true });
    if (!user || !pass || !endpoint) return undefined;
    return { user, pass, endpoint };
  },
  create: (options) => ({
    kind: 'smtp',
    endpoint: options.endpoint,
    auth: { kind: 'password', user: options.user, pass: options.pass },
    errorContext: { authKind: 'app-password', credentialShape: 'app-password' },
  }),
  budgetSubject: (options) => ({ kind: 'mailbox', user: options.user }),
};
