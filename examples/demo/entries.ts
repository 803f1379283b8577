import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import type { GmailTransportConfig, GmailTransporter } from '../../src/index.js';
import { runBridgeDemo } from '../bridge-demo.js';
import type { GoogleStandIn, Grant } from './google.js';
import { QUOTA_REPLY, startSmtpServer, type DemoSmtpServer, type Inbox } from './server.js';

/** What every entry may use: the local servers, already listening. */
export interface DemoContext {
  /** TLS from the first byte, standing in for smtp.gmail.com:465. */
  implicitTls: DemoSmtpServer;
  /** STARTTLS on connect, standing in for port 587 servers. */
  startTls: DemoSmtpServer;
  /** Google's token endpoint and Gmail API, on plain HTTP on 127.0.0.1. */
  google: GoogleStandIn;
  /** The certificate the servers use, for an entry that starts a server of its own. */
  certificate: { key: string; cert: string };
}

type Print = (line: string) => void;

interface RunBase {
  /** Where to look for the message afterwards. */
  inbox: Inbox;
  /** What the inbox stands for, when the config alone does not tell (`gmail.googleapis.com`). */
  standsFor?: string;
  /** Rows printed after the server's sighting (token requests, refusals). */
  notes?(): [label: string, value: string][];
  /** Stops whatever `setup` started. */
  stop?(): Promise<void>;
}

/** An entry that sends one message with `createGmailTransport(config)`. */
export interface ConfigRun extends RunBase {
  config: GmailTransportConfig;
  message: { from: string; to: string; bcc?: string };
  /** Subscribes to the transporter's events, to print them as they happen. */
  watch?(mailer: GmailTransporter, print: Print): void;
}

/** An entry that delivers by itself (the bridge: a simulated printer speaks SMTP to it). */
export interface SelfRun extends RunBase {
  deliver(print: Print): Promise<{ delivered: boolean; subject: string }>;
}

/** One entry's run: what to send and where to look for it. */
export type DemoRun = ConfigRun | SelfRun;

/**
 * One delivery of the demo. Adding one to the demo is adding one entry: its `setup` can start
 * its own local stand-ins and register credentials with the Google stand-in.
 */
export interface DemoEntry {
  /** Shown as the heading; usually the strategy's name. */
  name: string;
  /** One line: what this delivery stands for in production. */
  about: string;
  setup(ctx: DemoContext): DemoRun | Promise<DemoRun>;
}

// Fake credentials that only the local stand-ins know.
const GMAIL_ACCOUNT = {
  user: 'me@gmail.com',
  clientId: 'demo.apps.googleusercontent.com',
  clientSecret: 'demo-client-secret',
  refreshToken: 'demo-refresh-token',
};
const RELAY_AUTH = { user: 'apikey', pass: 'SG.demo-not-a-real-key' };

/** The token requests made since `from`, one row each. */
function tokenRows(google: GoogleStandIn, from: number): [string, string][] {
  const describe = (g: Grant) =>
    g.grant === 'refresh_token'
      ? `refresh_token grant: client ${g.client}, user ${g.user}, scope ${g.scopes.join(' ')}`
      : `${g.grant} grant: iss ${g.client}, sub ${g.user}, scope ${g.scopes.join(' ')} (RS256 signature checked)`;
  const rows = google.grants.slice(from).map((g): [string, string] => ['token', `${describe(g)} at ${google.tokenUrl}`]);
  return rows.length > 0 ? rows : [['token', 'none requested: the cached token of an earlier entry was used']];
}

export const entries: DemoEntry[] = [
  {
    name: 'app-password',
    about: 'a Gmail account with an app password (smtp.gmail.com:465, implicit TLS)',
    setup: ({ implicitTls }) => ({
      config: {
        strategy: 'app-password',
        user: 'me@gmail.com',
        appPassword: 'abcd efgh ijkl mnop', // Google's display form; the spaces are stripped
        smtp: implicitTls.smtp,
      },
      message: { from: 'me@gmail.com', to: 'you@example.com' },
      inbox: implicitTls,
    }),
  },
  {
    name: 'ip-relay',
    about: "Google Workspace's SMTP relay, trusted by IP (smtp-relay.gmail.com:587, STARTTLS, no AUTH)",
    setup: ({ startTls }) => ({
      config: { strategy: 'ip-relay', domain: 'example.com', smtp: startTls.smtp },
      message: { from: 'app@example.com', to: 'you@example.org' },
      inbox: startTls,
    }),
  },
  {
    name: 'relay',
    about: 'an external relay, here the SendGrid preset (smtp.sendgrid.net:587, STARTTLS)',
    setup: ({ startTls }) => ({
      config: { strategy: 'relay', preset: 'sendgrid', auth: RELAY_AUTH, smtp: startTls.smtp },
      message: { from: 'app@example.com', to: 'you@example.org' },
      inbox: startTls,
    }),
  },
  {
    name: 'oauth2',
    about: "a Gmail account through OAuth 2.0: a refresh token, an access token from Google's token endpoint, XOAUTH2 on smtp.gmail.com:465",
    setup: ({ implicitTls, google }) => {
      google.registerRefreshToken({ ...GMAIL_ACCOUNT, scopes: ['https://mail.google.com/'] });
      const from = google.grants.length;
      return {
        config: { strategy: 'oauth2', ...GMAIL_ACCOUNT, endpoints: { token: google.tokenUrl }, smtp: implicitTls.smtp },
        message: { from: 'me@gmail.com', to: 'you@example.com' },
        inbox: implicitTls,
        notes: () => tokenRows(google, from),
      };
    },
  },
  {
    name: 'service-account',
    about: 'a Workspace service account with domain-wide delegation, sending as sales@example.com (JWT-bearer grant, XOAUTH2)',
    setup: async ({ implicitTls, google }) => {
      // A key made now, as Google Cloud console would download it (only its public half is registered).
      const { privateKey, publicKey } = await promisify(generateKeyPair)('rsa', {
        modulusLength: 2048,
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
        publicKeyEncoding: { type: 'spki', format: 'pem' },
      });
      const clientEmail = 'mailer@demo-project.iam.gserviceaccount.com';
      google.registerServiceAccount({ clientEmail, publicKey, domain: 'example.com' });
      const from = google.grants.length;
      return {
        config: {
          strategy: 'service-account',
          user: 'sales@example.com',
          serviceAccount: {
            type: 'service_account',
            project_id: 'demo-project',
            client_email: clientEmail,
            private_key: privateKey,
            token_uri: 'https://oauth2.googleapis.com/token',
          },
          endpoints: { token: google.tokenUrl },
          smtp: implicitTls.smtp,
        },
        message: { from: 'sales@example.com', to: 'customer@example.org' },
        inbox: implicitTls,
        notes: () => tokenRows(google, from),
      };
    },
  },
  {
    name: 'gmail-api',
    about: 'the Gmail REST API over HTTPS, for hosts that block SMTP ports (users.messages.send with a base64url message)',
    setup: ({ google }) => {
      const account = {
        user: 'me@example.com',
        clientId: 'demo.apps.googleusercontent.com',
        clientSecret: 'demo-client-secret',
        refreshToken: 'demo-api-refresh-token',
      };
      google.registerRefreshToken({ ...account, scopes: ['https://www.googleapis.com/auth/gmail.send'] });
      const from = google.grants.length;
      return {
        config: { strategy: 'gmail-api', ...account, endpoints: { token: google.tokenUrl, gmailApi: google.base } },
        message: { from: 'me@example.com', to: 'you@example.org', bcc: 'auditor@example.org' },
        inbox: google,
        standsFor: 'https://gmail.googleapis.com',
        notes: () => tokenRows(google, from),
      };
    },
  },
  {
    name: 'failover',
    about: 'Gmail through OAuth2 first; when its daily sending limit is used up (550 5.4.5), an external relay',
    setup: async ({ startTls, google, certificate }) => {
      // Standing in for smtp.gmail.com on a day the account's quota is spent.
      const exhausted = await startSmtpServer({ secure: true, ...certificate, checkAccessToken: google.describeToken, refuseData: () => QUOTA_REPLY });
      google.registerRefreshToken({ ...GMAIL_ACCOUNT, scopes: ['https://mail.google.com/'] });
      return {
        config: {
          strategy: 'failover',
          transports: [
            { strategy: 'oauth2', ...GMAIL_ACCOUNT, endpoints: { token: google.tokenUrl }, smtp: exhausted.smtp },
            { strategy: 'relay', preset: 'sendgrid', auth: RELAY_AUTH, smtp: startTls.smtp },
          ],
        },
        message: { from: 'me@gmail.com', to: 'you@example.com' },
        inbox: startTls,
        standsFor: 'smtp.sendgrid.net:587',
        watch(mailer, print) {
          mailer.on('failover', (e) =>
            print(`   event       failover: route ${e.from} (${e.fromStrategy}) failed with ${e.code}; trying route ${e.to} (${e.toStrategy})`),
          );
          mailer.on('delivered', (e) => print(`   event       delivered by route ${e.route} (${e.strategy})${e.failedOver ? ', after failing over' : ''}`));
        },
        notes: () =>
          exhausted.refused.map((r): [string, string] => ['refused', `at 127.0.0.1:${exhausted.port} (standing in for smtp.gmail.com:465): ${r.reply}`]),
        stop: () => exhausted.close(),
      };
    },
  },
  {
    name: 'bridge',
    about: 'the SMTP bridge: an office printer sends a scan with a device password; the bridge delivers it upstream',
    setup: ({ implicitTls }) => ({
      deliver: (print) => runBridgeDemo(implicitTls.smtp, (text) => print(text.replace(/^/gm, ' '))),
      inbox: implicitTls,
      standsFor: 'smtp.gmail.com:465',
    }),
  },
];
