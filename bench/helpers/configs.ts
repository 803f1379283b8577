import type { SendMailOptions, Transporter } from 'nodemailer';
import type { Package } from './package.js';
import type { StandIns } from './stand-ins.js';

/** Fake credentials: unique markers, nothing real. */
export const USER = 'bench@gmail.com';
export const APP_PASSWORD = 'abcd efgh ijkl mnop';
export const CLIENT_SECRET = 'FAKE-SECRET-b3nc';
export const REFRESH_TOKEN = 'FAKE-REFRESH-b3nc';

export interface PoolShape {
  maxConnections: number;
  maxMessages: number;
}

const BODY = 'Benchmark body line, plain ASCII text of a typical notification.\n'.repeat(16);

/** A small, typical message (about 1.3 kB composed). */
export function message(i: number): SendMailOptions {
  return { from: USER, to: `rcpt${i}@example.com`, subject: `Benchmark message ${i}`, text: BODY };
}

/** Our SMTP endpoint override for the stand-in: implicit TLS, trusting its run-time certificate. */
export function smtpOverride(s: StandIns): { host: string; port: number; secure: true; tls: { ca: string[] } } {
  return { host: '127.0.0.1', port: s.smtpPort, secure: true, tls: { ca: [s.cert] } };
}

/** nodemailer's own options for the same endpoint and pool. */
export function rawSmtpOptions(s: StandIns, pool: PoolShape | undefined, auth: Record<string, unknown>): Record<string, unknown> {
  return {
    host: '127.0.0.1',
    port: s.smtpPort,
    secure: true,
    tls: { ca: [s.cert] },
    auth,
    logger: false,
    ...(pool ? { pool: true, maxConnections: pool.maxConnections, maxMessages: pool.maxMessages } : {}),
  };
}

/**
 * Every bench sends thousands of messages as one mailbox, far past Google's daily limits: the
 * configs turn the sending budget off (section 5 measures it on its own).
 */
const NO_BUDGET = { budget: false } as const;

/** Budget limits no benchmark batch reaches: every message is counted and none refused. */
export const BENCH_LIMITS = { messagesPerDay: 1_000_000, recipientsPerDay: 1_000_000 };

export function appPasswordConfig(s: StandIns, pool: PoolShape | undefined, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    strategy: 'app-password',
    user: USER,
    appPassword: APP_PASSWORD,
    smtp: smtpOverride(s),
    ...(pool ? { pool: true, ...pool } : {}),
    ...NO_BUDGET,
    ...extra,
  };
}

/** An oauth2 config; a distinct `clientId` gives a distinct token cache key (a cold start). */
export function oauth2Config(s: StandIns, pool: PoolShape | undefined, clientId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    strategy: 'oauth2',
    user: USER,
    clientId,
    clientSecret: CLIENT_SECRET,
    refreshToken: REFRESH_TOKEN,
    endpoints: { token: s.tokenUrl },
    smtp: smtpOverride(s),
    ...(pool ? { pool: true, ...pool } : {}),
    ...NO_BUDGET,
    ...extra,
  };
}

export function gmailApiConfig(s: StandIns, clientId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    strategy: 'gmail-api',
    user: USER,
    clientId,
    clientSecret: CLIENT_SECRET,
    refreshToken: REFRESH_TOKEN,
    endpoints: { token: s.tokenUrl, gmailApi: s.gmailApiUrl },
    ...NO_BUDGET,
    ...extra,
  };
}

/** nodemailer's built-in XOAuth2, refreshing at the same stand-in. */
export function rawOauth2Auth(s: StandIns, clientId: string): Record<string, unknown> {
  return { type: 'OAuth2', user: USER, clientId, clientSecret: CLIENT_SECRET, refreshToken: REFRESH_TOKEN, accessUrl: s.tokenUrl };
}

/**
 * Whether the package accepts a config (the strategy exists and knows these options); the
 * reason it does not, otherwise. Builds a transporter and closes it: no network.
 */
export function unsupportedReason(pkg: Package, config: Record<string, unknown>): string | undefined {
  try {
    const mailer = pkg.createGmailTransport(config as never);
    mailer.close();
    return undefined;
  } catch (err) {
    const issues = (err as { issues?: { path: string; message: string }[] }).issues;
    const detail = issues?.length ? issues.map((i) => `${i.path} ${i.message}`).join('; ') : (err as Error).message;
    return `${String(config.strategy)} not usable yet (${detail})`;
  }
}

/** Sends `count` messages at once and checks every one was accepted. */
export async function sendAll(mailer: Transporter, count: number, offset = 0): Promise<void> {
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) sends.push(mailer.sendMail(message(offset + i)));
  const results = await Promise.allSettled(sends);
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed.length > 0)
    throw new Error(`${failed.length}/${count} sends failed, first: ${String((failed[0]!.reason as Error)?.message ?? failed[0]!.reason)}`);
}
