import type { ConnectionOptions as TlsOptions } from 'node:tls';
import type { MapErrorContext } from '../errors/map-error.js';
import type { Secret } from './secret.js';
import type { AccessTokenSource } from './tokens.js';

/** Where and how an SMTP strategy connects, after defaults and the user's `smtp` override. */
export interface SmtpEndpoint {
  host: string;
  port: number;
  /** Implicit TLS from the first byte (port 465). */
  secure: boolean;
  /** STARTTLS is mandatory: the connection fails rather than continue in clear. */
  requireTLS: boolean;
  /** The EHLO name. */
  name?: string;
  tls?: TlsOptions;
  connectionTimeoutMs?: number;
  greetingTimeoutMs?: number;
  socketTimeoutMs?: number;
}

/** Credentials an SMTP route logs in with. */
export type SmtpAuth =
  { kind: 'password'; user: string; pass: Secret; method?: 'PLAIN' | 'LOGIN' } | { kind: 'oauth2'; user: string; tokens: AccessTokenSource };

/** What an SMTP strategy asks for: the generic SMTP route builds the nodemailer transport. */
export interface SmtpPlan {
  kind: 'smtp';
  endpoint: SmtpEndpoint;
  auth?: SmtpAuth;
  /** How errors of this route are classified (see mapError). */
  errorContext: Pick<MapErrorContext, 'authKind' | 'credentialShape'>;
}
