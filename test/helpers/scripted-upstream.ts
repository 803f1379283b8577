import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { testCert } from './certs.js';

/** One message the upstream accepted. */
export interface UpstreamMessage {
  from: string;
  to: string[];
  raw: Buffer;
  auth?: { username: string; password?: string };
  /** MAIL FROM's BODY parameter as the upstream saw it (`7bit` when absent) and its SMTPUTF8 flag. */
  bodyType: string;
  smtpUtf8: boolean;
}

export interface ScriptedUpstream {
  port: number;
  cert: string;
  /** Messages accepted (answered 250), in order. */
  accepted: UpstreamMessage[];
  /** Messages received but refused by `decide`. */
  refused: UpstreamMessage[];
  /** How many DATA transfers are being decided right now. */
  readonly pending: number;
  close(): Promise<void>;
}

export interface ScriptedUpstreamOptions {
  /**
   * Decides each received message: resolve `undefined` to accept it (250), or a reply such as
   * `421 4.7.0 Try again later` to refuse it. May wait: the upstream then stalls after the dot.
   */
  decide?: (message: UpstreamMessage) => Promise<string | undefined> | string | undefined;
  /** Refuse recipients: return a reply text for RCPT TO. */
  rcpt?: (address: string) => string | undefined;
  /** Extensions the upstream does not offer, e.g. `{ hide8BITMIME: true }`. */
  hide?: { hide8BITMIME?: boolean; hideSMTPUTF8?: boolean };
}

/**
 * The upstream mail server (Gmail's stand-in) a bridge delivers to: implicit TLS on 127.0.0.1
 * with a certificate made at test time, any login accepted, and each message decided by the
 * test, possibly after a wait.
 */
export async function startScriptedUpstream(opts: ScriptedUpstreamOptions = {}): Promise<ScriptedUpstream> {
  const { key, cert } = await testCert();
  const accepted: UpstreamMessage[] = [];
  const refused: UpstreamMessage[] = [];
  const state = { pending: 0 };
  const logins = new Map<string, { username: string; password?: string }>();
  const server = new SMTPServer({
    secure: true,
    key,
    cert,
    logger: false,
    disableReverseLookup: true,
    // Replies exactly as scripted, with their own enhanced codes.
    hideENHANCEDSTATUSCODES: true,
    authOptional: true,
    authMethods: ['PLAIN', 'LOGIN', 'XOAUTH2'],
    ...opts.hide,
    onAuth(auth, session, callback) {
      logins.set(session.id, { username: auth.username ?? '', ...(auth.password != null ? { password: auth.password } : {}) });
      callback(null, { user: auth.username });
    },
    onRcptTo(address, _session, callback) {
      const reply = opts.rcpt?.(address.address);
      callback(reply ? Object.assign(new Error(reply.slice(4)), { responseCode: Number(reply.slice(0, 3)) }) : undefined);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const auth = logins.get(session.id);
        const message: UpstreamMessage = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks),
          ...(auth ? { auth } : {}),
          bodyType: session.envelope.bodyType ?? '7bit',
          smtpUtf8: session.envelope.smtpUtf8 === true,
        };
        state.pending++;
        Promise.resolve(opts.decide?.(message)).then((reply) => {
          state.pending--;
          if (reply) {
            refused.push(message);
            callback(Object.assign(new Error(reply.slice(4)), { responseCode: Number(reply.slice(0, 3)) }));
          } else {
            accepted.push(message);
            callback(null, `2.0.0 OK queued as up${accepted.length}`);
          }
        });
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  server.on('error', () => undefined);
  return {
    port: (server.server.address() as AddressInfo).port,
    cert,
    accepted,
    refused,
    get pending() {
      return state.pending;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
