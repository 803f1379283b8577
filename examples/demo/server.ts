import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { simpleParser } from 'mailparser';
import { generate } from 'selfsigned';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';

/** What the receiving side saw of one message: printed by the demo, line by line. */
export interface Sighting {
  /** Where it arrived, e.g. `127.0.0.1:40123`. */
  at: string;
  /** How the channel was protected, e.g. `implicit TLS (TLSv1.3)`. */
  channel: string;
  ehlo?: string;
  /** e.g. `PLAIN as me@gmail.com`; `none` when the client sent no AUTH. */
  auth: string;
  envelope: { from: string; to: string[] };
  subject: string;
}

/** Anything a demo entry delivers to: a local SMTP server here, an HTTP stand-in later. */
export interface Inbox {
  /** The message with this subject, once it has arrived. */
  find(subject: string): Sighting | undefined;
}

/** A local SMTP server, with what a client needs to point `smtp` at it. */
export interface DemoSmtpServer extends Inbox {
  readonly port: number;
  /** An `smtp` override that reaches this server and trusts its certificate. */
  readonly smtp: { host: string; port: number; secure: boolean; tls: { ca: string[] } };
  close(): Promise<void>;
}

/** A certificate for 127.0.0.1, made now (never stored), that the clients trust through `tls.ca`. */
export async function makeCertificate(): Promise<{ key: string; cert: string }> {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}

/**
 * Starts an SMTP server on 127.0.0.1 that accepts any login and any message and remembers what
 * it saw. `secure` makes it speak TLS from the first byte (like port 465); otherwise it offers
 * STARTTLS (like port 587).
 */
export async function startSmtpServer(options: { secure: boolean; key: string; cert: string }): Promise<DemoSmtpServer> {
  const sightings: Sighting[] = [];
  const sessions = new Map<string, { tls?: string; auth?: string }>();
  const stateOf = (session: SMTPServerSession) => {
    let state = sessions.get(session.id);
    if (!state) sessions.set(session.id, (state = {}));
    return state;
  };

  const server = new SMTPServer({
    secure: options.secure,
    key: options.key,
    cert: options.cert,
    logger: false,
    disableReverseLookup: true,
    authOptional: true,
    authMethods: ['PLAIN', 'LOGIN', 'XOAUTH2'],
    onSecure(socket, session, callback) {
      const protocol = (socket as TLSSocket).getProtocol?.() ?? 'TLS';
      stateOf(session).tls = options.secure ? `implicit TLS (${protocol})` : `STARTTLS, then ${protocol}`;
      callback();
    },
    onAuth(auth, session, callback) {
      stateOf(session).auth = `${auth.method} as ${auth.username ?? '?'}${session.secure ? '' : ' (in clear!)'}`;
      callback(null, { user: auth.username ?? '' });
    },
    onData(stream, session, callback) {
      simpleParser(stream).then(
        (parsed) => {
          const state = stateOf(session);
          sightings.push({
            at: `127.0.0.1:${port}`,
            channel: session.secure ? (state.tls ?? 'TLS') : 'none (cleartext)',
            ehlo: session.hostNameAppearsAs,
            auth: state.auth ?? 'none',
            envelope: {
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              to: session.envelope.rcptTo.map((r) => r.address),
            },
            subject: parsed.subject ?? '',
          });
          callback();
        },
        (err: Error) => callback(err),
      );
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    smtp: { host: '127.0.0.1', port, secure: options.secure, tls: { ca: [options.cert] } },
    find: (subject) => sightings.find((s) => s.subject === subject),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
