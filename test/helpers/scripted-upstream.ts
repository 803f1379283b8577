import { startRecordingServer } from './smtp-server.js';

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
 * The upstream mail server (Gmail's stand-in) a bridge delivers to: the recording SMTP server
 * (./smtp-server.ts) with implicit TLS, any login accepted, replies exactly as scripted (no
 * enhanced codes of its own), and each message decided by the test, possibly after a wait.
 */
export async function startScriptedUpstream(opts: ScriptedUpstreamOptions = {}): Promise<ScriptedUpstream> {
  const accepted: UpstreamMessage[] = [];
  const refused: UpstreamMessage[] = [];
  const state = { pending: 0 };
  const server = await startRecordingServer({
    secure: true,
    record: false,
    ...(opts.rcpt ? { onRcptTo: opts.rcpt } : {}),
    async onMessage(raw, session, auth) {
      const message: UpstreamMessage = {
        from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
        to: session.envelope.rcptTo.map((r) => r.address),
        raw,
        ...(auth ? { auth: { username: auth.username, ...(auth.password !== undefined ? { password: auth.password } : {}) } } : {}),
        bodyType: session.envelope.bodyType ?? '7bit',
        smtpUtf8: session.envelope.smtpUtf8 === true,
      };
      state.pending++;
      const reply = await opts.decide?.(message);
      state.pending--;
      (reply ? refused : accepted).push(message);
      return reply;
    },
    acceptReply: () => `2.0.0 OK queued as up${accepted.length}`,
    extra: { hideENHANCEDSTATUSCODES: true, ...opts.hide },
  });
  return {
    port: server.port,
    cert: server.cert,
    accepted,
    refused,
    get pending() {
      return state.pending;
    },
    close: () => server.close(),
  };
}
