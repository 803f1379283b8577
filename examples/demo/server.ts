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
  /** The plain-text body, and the attachments' file names (not printed; for checks). */
  text?: string;
  attachments?: string[];
  /** Further rows a stand-in wants shown (the Gmail API stand-in's headers, for one). */
  notes?: [label: string, value: string][];
}

/** Anything a demo entry delivers to: a local SMTP server, or the Gmail API stand-in. */
export interface Inbox {
  /** The message with this subject, once it has arrived. */
  find(subject: string): Sighting | undefined;
}

/** A message the server refused, and the reply it gave. */
export interface Refusal {
  subject: string;
  reply: string;
}

/** A local SMTP server, with what a client needs to point `smtp` at it. */
export interface DemoSmtpServer extends Inbox {
  readonly port: number;
  /** An `smtp` override that reaches this server and trusts its certificate. */
  readonly smtp: { host: string; port: number; secure: boolean; tls: { ca: string[] } };
  /** Every message received, in order. */
  readonly received: readonly Sighting[];
  /** Every message refused by `refuseData`, in order. */
  readonly refused: readonly Refusal[];
  close(): Promise<void>;
}

export interface SmtpServerOptions {
  /** TLS from the first byte (port 465 style); otherwise STARTTLS is offered (587 style). */
  secure: boolean;
  key: string;
  cert: string;
  /**
   * Decides an XOAUTH2 login: a description of the token when the server accepts it (e.g. which
   * grant issued it), `undefined` to refuse it the way Gmail does. Without it, any token passes.
   */
  checkAccessToken?: (user: string, accessToken: string) => string | undefined;
  /** A reply (`550 5.4.5 ...`) to refuse a message with after DATA, or `undefined` to take it. */
  refuseData?: (envelope: { from: string; to: string[] }) => string | undefined;
}

/** Gmail's reply once the account's daily sending limit is used up (test/fixtures/google-replies.json). */
export const QUOTA_REPLY = '550 5.4.5 Daily user sending quota exceeded. s124sm6149838wme.29 - gsmtp';

/** A certificate for 127.0.0.1, made now (never stored), that the clients trust through `tls.ca`. */
export async function makeCertificate(): Promise<{ key: string; cert: string }> {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}

/** A reply error for smtp-server: `550 5.4.5 text` becomes code 550 and the text after it. */
function replyError(reply: string): Error {
  return Object.assign(new Error(reply.slice(4)), { responseCode: Number(reply.slice(0, 3)) });
}

/**
 * Starts an SMTP server on 127.0.0.1 that remembers what it saw. Passwords (PLAIN, LOGIN) are
 * accepted as they are; XOAUTH2 tokens go through `checkAccessToken`. `secure` makes it speak
 * TLS from the first byte (like port 465); otherwise it offers STARTTLS (like port 587).
 */
export async function startSmtpServer(options: SmtpServerOptions): Promise<DemoSmtpServer> {
  const sightings: Sighting[] = [];
  const refusals: Refusal[] = [];
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
      const user = auth.username ?? '';
      let how = '';
      if (auth.method === 'XOAUTH2' && options.checkAccessToken) {
        const token = options.checkAccessToken(user, auth.accessToken ?? '');
        if (token === undefined) {
          // Gmail's answer to a token it does not take: a 334 challenge with this JSON, then 535.
          callback(null, { data: { status: '400', schemes: 'Bearer', scope: 'https://mail.google.com/' } });
          return;
        }
        how = `, ${token}`;
      }
      stateOf(session).auth = `${auth.method} as ${user}${how}${session.secure ? '' : ' (in clear!)'}`;
      callback(null, { user });
    },
    onData(stream, session, callback) {
      const envelope = {
        from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
        to: session.envelope.rcptTo.map((r) => r.address),
      };
      simpleParser(stream).then(
        (parsed) => {
          const refusal = options.refuseData?.(envelope);
          if (refusal) {
            refusals.push({ subject: parsed.subject ?? '', reply: refusal });
            callback(replyError(refusal));
            return;
          }
          const state = stateOf(session);
          sightings.push({
            at: `127.0.0.1:${port}`,
            channel: session.secure ? (state.tls ?? 'TLS') : 'none (cleartext)',
            ehlo: session.hostNameAppearsAs,
            auth: state.auth ?? 'none',
            envelope,
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
            attachments: parsed.attachments.map((a) => a.filename ?? ''),
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
    received: sightings,
    refused: refusals,
    find: (subject) => sightings.find((s) => s.subject === subject),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
