import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GmailTransporter } from '../../transport/create.js';
import type { Locale } from '../../errors/hints.js';
import type { Logger } from '../../core/logger.js';
import type { ResolvedBridgeConfig } from '../config.js';
import type { AuthLockout } from '../lockout.js';
import type { BridgeAddress } from '../types.js';
import type { ConsoleActivity } from './activity.js';
import type { ResolvedAdmin } from './config.js';
import type { ConsoleSession } from './sessions.js';

/** What the console needs of the bridge it runs in. */
export interface ConsoleHost {
  config: ResolvedBridgeConfig & { admin: ResolvedAdmin };
  activity: ConsoleActivity;
  /** The SMTP side's failed-login table: listed, and lifted with the unlock button. */
  smtpLockout: AuthLockout;
  /** The upstream transporter in use now (Connect Google replaces it). */
  upstream(): GmailTransporter;
  /** Puts a new refresh token into the running upstream: messages from now on use it. */
  replaceRefreshToken(token: string): void;
  addresses(): readonly BridgeAddress[];
  logger?: Logger;
  /** The bridge's certificate, for HTTPS on a non-loopback listen address. */
  tls?: { key: string; cert: string };
}

/** One request, as the console's handlers see it. */
export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  locale: Locale;
  cookies: ReadonlyMap<string, string>;
  /** The client's address (IPv4-mapped IPv6 as IPv4). */
  client: string;
  /** Set once the request is authenticated by a session cookie. */
  session?: ConsoleSession;
  /** Set once the request is authenticated by HTTP Basic (the API). */
  authenticatedUser?: string;
  host: ConsoleHost;
}
