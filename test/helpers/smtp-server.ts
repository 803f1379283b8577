import { SMTPServer, type SMTPServerOptions, type SMTPServerSession, type SMTPServerAuthentication } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import type { AddressInfo } from 'node:net';
import { testCert } from './certs.js';

/** What the server saw of one delivered message. */
export interface ReceivedMessage {
  /** TLS was in use when the message was sent (implicit or after STARTTLS). */
  secure: boolean;
  /** Whether STARTTLS was used (as opposed to implicit TLS). */
  startTls: boolean;
  ehlo: string;
  auth?: { method: string; username: string; password?: string; accessToken?: string };
  envelope: { from: string; to: string[] };
  raw: Buffer;
  parsed: ParsedMail;
}

/** One AUTH attempt as the server saw it. */
export interface AuthAttempt {
  method: string;
  username: string;
  password?: string;
  accessToken?: string;
  secure: boolean;
}

export interface RecordingServer {
  port: number;
  cert: string;
  messages: ReceivedMessage[];
  authAttempts: AuthAttempt[];
  /** Commands seen per session, in order (EHLO, STARTTLS, AUTH, MAIL...). */
  transcripts: string[][];
  connections: number;
  close(): Promise<void>;
}

export interface RecordingServerOptions {
  /** Implicit TLS (port-465 style); otherwise STARTTLS is offered unless `noStartTls`. */
  secure?: boolean;
  noStartTls?: boolean;
  /** Offer no AUTH at all (like smtp-relay by IP). */
  noAuth?: boolean;
  /** Decides a login; default: accept anything. Return false to reject with 535 5.7.8. */
  checkAuth?: (auth: SMTPServerAuthentication, session: SMTPServerSession) => boolean | 'xoauth2-reject';
  /** Replies at a phase: return an error reply text to reject. */
  onMailFrom?: (address: string, session: SMTPServerSession) => string | undefined;
  onRcptTo?: (address: string, session: SMTPServerSession) => string | undefined;
  /**
   * Decides a message once its final dot arrived: return (or resolve) an error reply text to
   * refuse it. May wait: the server then stalls after the dot. `auth` is the session's login.
   */
  onMessage?: (raw: Buffer, session: SMTPServerSession, auth: ReceivedMessage['auth']) => string | undefined | Promise<string | undefined>;
  /** The text after `250 ` for an accepted message (smtp-server's own by default). */
  acceptReply?: () => string;
  /** `false`: keep no parsed copy of the messages (a test that keeps its own view in `onMessage`). */
  record?: boolean;
  extra?: Partial<SMTPServerOptions>;
}

function replyError(text: string): Error {
  const code = Number(text.slice(0, 3));
  return Object.assign(new Error(text.slice(4)), { responseCode: code });
}

/**
 * A real SMTP server on 127.0.0.1 (the smtp-server package) with a certificate generated at
 * test time, recording what it receives: TLS state, EHLO name, AUTH method and credentials,
 * envelope and the parsed message.
 */
export async function startRecordingServer(opts: RecordingServerOptions = {}): Promise<RecordingServer> {
  const { key, cert } = await testCert();
  const messages: ReceivedMessage[] = [];
  const authAttempts: AuthAttempt[] = [];
  const transcripts: string[][] = [];
  const sessionAuth = new Map<string, ReceivedMessage['auth']>();
  const sessionStartTls = new Map<string, boolean>();
  const sessionLog = new Map<string, string[]>();
  const state = { connections: 0 };

  const logFor = (session: SMTPServerSession): string[] => {
    let log = sessionLog.get(session.id);
    if (!log) {
      log = [];
      sessionLog.set(session.id, log);
      transcripts.push(log);
    }
    return log;
  };

  const server = new SMTPServer({
    secure: opts.secure ?? false,
    key,
    cert,
    logger: false,
    disableReverseLookup: true,
    hideSTARTTLS: opts.noStartTls ?? false,
    authOptional: true,
    authMethods: ['PLAIN', 'LOGIN', 'XOAUTH2'],
    ...(opts.noAuth ? { disabledCommands: ['AUTH'] } : {}),
    ...(opts.noStartTls && !opts.secure ? { disabledCommands: opts.noAuth ? ['AUTH', 'STARTTLS'] : ['STARTTLS'], allowInsecureAuth: true } : {}),
    onConnect(session, callback) {
      state.connections++;
      logFor(session).push('CONNECT');
      callback();
    },
    onSecure(_socket, session, callback) {
      if (!opts.secure) sessionStartTls.set(session.id, true);
      logFor(session).push('STARTTLS');
      callback();
    },
    onAuth(auth, session, callback) {
      const attempt: AuthAttempt = {
        method: auth.method,
        username: auth.username ?? '',
        secure: Boolean(session.secure),
        ...(auth.password != null ? { password: auth.password } : {}),
        ...(auth.accessToken !== undefined ? { accessToken: auth.accessToken } : {}),
      };
      authAttempts.push(attempt);
      logFor(session).push(`AUTH ${auth.method}`);
      const verdict = opts.checkAuth ? opts.checkAuth(auth, session) : true;
      if (verdict === true) {
        sessionAuth.set(session.id, {
          method: auth.method,
          username: attempt.username,
          ...(attempt.password !== undefined ? { password: attempt.password } : {}),
          ...(attempt.accessToken !== undefined ? { accessToken: attempt.accessToken } : {}),
        });
        callback(null, { user: attempt.username });
        return;
      }
      if (auth.method === 'XOAUTH2') {
        // Gmail's way: 334 + base64 JSON challenge, then 535 after the client's empty line.
        callback(null, { data: { status: '401', schemes: 'bearer', scope: 'https://mail.google.com/' } });
        return;
      }
      const err = Object.assign(
        new Error('5.7.8 Username and Password not accepted. For more information, go to https://support.google.com/mail/?p=BadCredentials'),
        { responseCode: 535 },
      );
      callback(err);
    },
    onMailFrom(address, session, callback) {
      logFor(session).push(`MAIL FROM:${address.address}`);
      const reply = opts.onMailFrom?.(address.address, session);
      callback(reply ? replyError(reply) : undefined);
    },
    onRcptTo(address, session, callback) {
      logFor(session).push(`RCPT TO:${address.address}`);
      const reply = opts.onRcptTo?.(address.address, session);
      callback(reply ? replyError(reply) : undefined);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        logFor(session).push('DATA');
        const auth = sessionAuth.get(session.id);
        void Promise.resolve(opts.onMessage?.(raw, session, auth)).then((reply) => {
          if (reply) callback(replyError(reply));
          else if (opts.record === false) callback(null, opts.acceptReply?.());
          else record(raw, session, auth, callback);
        });
      });
    },
    ...opts.extra,
  });

  function record(raw: Buffer, session: SMTPServerSession, auth: ReceivedMessage['auth'], callback: (err?: Error | null, message?: string) => void): void {
    simpleParser(raw).then(
      (parsed) => {
        messages.push({
          secure: Boolean(session.secure),
          startTls: sessionStartTls.get(session.id) ?? false,
          ehlo: session.hostNameAppearsAs,
          ...(auth ? { auth } : {}),
          envelope: {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
          },
          raw,
          parsed,
        });
        callback(null, opts.acceptReply?.());
      },
      (err: Error) => callback(err),
    );
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  server.on('error', () => {});
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    cert,
    messages,
    authAttempts,
    transcripts,
    get connections() {
      return state.connections;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
