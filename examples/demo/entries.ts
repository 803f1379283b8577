import type { GmailTransportConfig } from '../../src/index.js';
import type { DemoSmtpServer, Inbox } from './server.js';

/** What every entry may use: the local servers, already listening. */
export interface DemoContext {
  /** TLS from the first byte, standing in for smtp.gmail.com:465. */
  implicitTls: DemoSmtpServer;
  /** STARTTLS on connect, standing in for port 587 servers. */
  startTls: DemoSmtpServer;
}

/** One entry's run: the config to send with, where to look for the message, and its cleanup. */
export interface DemoRun {
  config: GmailTransportConfig;
  inbox: Inbox;
  /** Stops whatever `setup` started (a token endpoint stand-in, a bridge...). */
  stop?(): Promise<void>;
}

/**
 * One delivery of the demo. Adding a strategy to the demo is adding one entry: its `setup`
 * can start its own local stand-ins (an OAuth token endpoint, a Gmail API stand-in) and return
 * an inbox that reports what they received.
 */
export interface DemoEntry {
  /** Shown as the heading; usually the strategy's name. */
  name: string;
  /** One line: what this delivery stands for in production. */
  about: string;
  from: string;
  to: string;
  setup(ctx: DemoContext): DemoRun | Promise<DemoRun>;
}

export const entries: DemoEntry[] = [
  {
    name: 'app-password',
    about: 'a Gmail account with an app password (smtp.gmail.com:465, implicit TLS)',
    from: 'me@gmail.com',
    to: 'you@example.com',
    setup: ({ implicitTls }) => ({
      config: {
        strategy: 'app-password',
        user: 'me@gmail.com',
        appPassword: 'abcd efgh ijkl mnop', // Google's display form; the spaces are stripped
        smtp: implicitTls.smtp,
      },
      inbox: implicitTls,
    }),
  },
  {
    name: 'ip-relay',
    about: "Google Workspace's SMTP relay, trusted by IP (smtp-relay.gmail.com:587, STARTTLS, no AUTH)",
    from: 'app@example.com',
    to: 'you@example.org',
    setup: ({ startTls }) => ({
      config: { strategy: 'ip-relay', domain: 'example.com', smtp: startTls.smtp },
      inbox: startTls,
    }),
  },
  {
    name: 'relay',
    about: 'an external relay, here the SendGrid preset (smtp.sendgrid.net:587, STARTTLS)',
    from: 'app@example.com',
    to: 'you@example.org',
    setup: ({ startTls }) => ({
      config: { strategy: 'relay', preset: 'sendgrid', auth: { user: 'apikey', pass: 'SG.demo-not-a-real-key' }, smtp: startTls.smtp },
      inbox: startTls,
    }),
  },
];
