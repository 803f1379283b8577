/**
 * Local stand-ins for everything the examples talk to, so each runs without a Google account
 * or network: the demo's SMTP server in place of smtp.gmail.com (implicit TLS, XOAUTH2 only with
 * tokens the stand-in issued), another in place of an external relay (STARTTLS), and the
 * stand-in for Google's token endpoint and Gmail API. Used by `npm run example -- <name>` and by
 * test/examples.
 */
import { generateKeyPair, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import type { ServiceAccountKey, SmtpOverride } from '../../src/index.js';
import { startGoogleStandIn, type GoogleStandIn } from '../demo/google.js';
import { QUOTA_REPLY, makeCertificate, startSmtpServer, type DemoSmtpServer, type Sighting } from '../demo/server.js';

/** Credentials the stand-ins accept; nothing else does. */
export interface LocalCredentials {
  oauth2: { user: string; clientId: string; clientSecret: string; refreshToken: string };
  /** A key made at start-up; the service account may act for any mailbox of `domain`. */
  serviceAccount: { key: ServiceAccountKey; domain: string };
  relay: { user: string; pass: string };
}

/**
 * Config fragments that send a strategy to the stand-ins instead of Google or the relay. The
 * Gmail ones turn the sending budget off: the stand-in plays a day whose sending limit is spent
 * and lifts it for the next run in the same process, which Google never does, and the budget
 * would keep the mailbox spent for the rest of the window.
 */
export interface LocalOverrides {
  /** For `oauth2` and `service-account`: the SMTP stand-in and the token endpoint. */
  gmailSmtp: { smtp: SmtpOverride; endpoints: { token: string }; budget: false };
  /** For `gmail-api`: the token endpoint and the Gmail API stand-in. */
  gmailApi: { endpoints: { token: string; gmailApi: string }; budget: false };
  /** For `relay`: the relay stand-in. */
  relay: { smtp: SmtpOverride };
}

export interface LocalStack {
  gmail: DemoSmtpServer;
  relay: DemoSmtpServer;
  google: GoogleStandIn;
  credentials: LocalCredentials;
  overrides: LocalOverrides;
  /** Makes the Gmail stand-in refuse every message as Gmail does once the daily limit is spent. */
  setGmailQuotaExceeded(exceeded: boolean): void;
  /** Every message the stand-ins accepted, in arrival order per stand-in. */
  received(): Sighting[];
  close(): Promise<void>;
}

export async function startLocalStack(): Promise<LocalStack> {
  const certificate = await makeCertificate();
  const google = await startGoogleStandIn();
  let quotaExceeded = false;
  const gmail = await startSmtpServer({
    secure: true,
    ...certificate,
    checkAccessToken: google.describeToken,
    refuseData: () => (quotaExceeded ? QUOTA_REPLY : undefined),
  });
  const relay = await startSmtpServer({ secure: false, ...certificate });

  // Unique per stack: tokens are cached per credentials for the whole process, and a token of
  // another stack (in tests, several run in one process) would be one this stack never issued.
  const run = randomBytes(4).toString('hex');
  const oauth2 = {
    user: 'me@example.com',
    clientId: `local-${run}.apps.googleusercontent.com`,
    clientSecret: `local-client-secret-${run}`,
    refreshToken: `local-refresh-token-${run}`,
  };
  google.registerRefreshToken({ ...oauth2, scopes: ['https://mail.google.com/'] });
  const { privateKey, publicKey } = await promisify(generateKeyPair)('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const clientEmail = `mailer-${run}@local-project.iam.gserviceaccount.com`;
  google.registerServiceAccount({ clientEmail, publicKey, domain: 'example.com' });

  return {
    gmail,
    relay,
    google,
    credentials: {
      oauth2,
      serviceAccount: {
        key: { type: 'service_account', project_id: 'local-project', client_email: clientEmail, private_key: privateKey },
        domain: 'example.com',
      },
      relay: { user: 'apikey', pass: `SG.local-not-a-real-key-${run}` },
    },
    overrides: {
      gmailSmtp: { smtp: gmail.smtp, endpoints: { token: google.tokenUrl }, budget: false },
      gmailApi: { endpoints: { token: google.tokenUrl, gmailApi: google.base }, budget: false },
      relay: { smtp: relay.smtp },
    },
    setGmailQuotaExceeded: (exceeded) => void (quotaExceeded = exceeded),
    received: () => [...gmail.received, ...relay.received, ...google.received],
    close: async () => {
      await Promise.all([gmail.close(), relay.close(), google.close()]);
    },
  };
}

/**
 * The stand-ins as GMAIL_* variables for `fromEnv()` (the CommonJS example reads its config so):
 * OAuth2 to the Gmail stand-in. `caFile` is a file holding the stand-ins' certificate.
 */
export function localEnvironment(stack: LocalStack, caFile: string): Record<string, string> {
  const { oauth2 } = stack.credentials;
  return {
    GMAIL_USER: oauth2.user,
    GMAIL_CLIENT_ID: oauth2.clientId,
    GMAIL_CLIENT_SECRET: oauth2.clientSecret,
    GMAIL_REFRESH_TOKEN: oauth2.refreshToken,
    GMAIL_TOKEN_ENDPOINT: stack.google.tokenUrl,
    GMAIL_SMTP_HOST: stack.gmail.smtp.host,
    GMAIL_SMTP_PORT: String(stack.gmail.smtp.port),
    GMAIL_SMTP_SECURE: 'true',
    GMAIL_SMTP_CA_FILE: caFile,
  };
}
