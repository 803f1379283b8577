import { connect as connectTcp, isIP } from 'node:net';
import { connect as connectTls } from 'node:tls';
import type { GmailTransportError } from '../../errors/error.js';
import { ERROR_MEANINGS } from '../../errors/catalog.js';
import { errorFor } from '../../errors/map-error.js';
import type { Locale } from '../../errors/hints.js';
import type { SmtpEndpoint } from '../../core/smtp-plan.js';

/** The two ways a connection's TLS mode can disagree with the port's. */
export type TlsModeSuspect = 'implicit-tls-server' | 'plaintext-server';

/**
 * Tells a TLS mode that does not match the port (`secure: false` on an implicit-TLS port,
 * `secure: true` on a STARTTLS one) from other connection failures, for one SMTP endpoint.
 */
export class TlsModeCheck {
  /** The port was probed for TLS once and did not answer: a silent port, not asked again. */
  #silentPort = false;

  constructor(
    readonly endpoint: SmtpEndpoint,
    readonly context: { strategy: string; locale: Locale },
  ) {}

  /**
   * A failure that looks like the wrong TLS mode for the port: no greeting on a plain-text
   * connection (the port may wait for a TLS hello), or a TLS client that read plain text
   * ("wrong version number", the port may greet in clear for STARTTLS).
   */
  suspect(err: unknown): TlsModeSuspect | undefined {
    const e = (typeof err === 'object' && err !== null ? err : {}) as { timeoutType?: unknown; command?: unknown; originalCode?: unknown; message?: unknown };
    if (!this.endpoint.secure) return e.timeoutType === 'GREETING_TIMEOUT' && !this.#silentPort ? 'implicit-tls-server' : undefined;
    const wrongVersion =
      e.originalCode === 'ERR_SSL_WRONG_VERSION_NUMBER' || (typeof e.message === 'string' && /wrong version number|packet length too long/i.test(e.message));
    return e.command === 'CONN' && wrongVersion ? 'plaintext-server' : undefined;
  }

  /**
   * Probes the port with the other TLS mode. A port that answers it fails now with a hint that
   * names the fix, not retried: every attempt would fail the same way. A port that answers
   * neither (a firewall, a silent server) keeps the connection failure and its hint.
   */
  async diagnose(suspect: TlsModeSuspect, mapped: GmailTransportError): Promise<GmailTransportError> {
    const { host, port } = this.endpoint;
    const other = suspect === 'implicit-tls-server' ? await answersTls(host, port) : await greetsInPlainText(host, port);
    if (suspect === 'implicit-tls-server' && !other) {
      this.#silentPort = true;
      return mapped;
    }
    const finding =
      suspect === 'implicit-tls-server'
        ? `${host}:${port} speaks TLS from the first byte (implicit TLS), but this connection started in plain text (secure: false) and got no greeting`
        : other
          ? `${host}:${port} greets in plain text (it upgrades with STARTTLS), but this connection expected TLS from the first byte (secure: true)`
          : `${host}:${port} did not answer in TLS, but this connection expected TLS from the first byte (secure: true)`;
    return errorFor('TLS_FAILED', {
      message: `${ERROR_MEANINGS.TLS_FAILED}: ${finding}`,
      variant: suspect,
      phase: 'tls',
      strategy: this.context.strategy,
      locale: this.context.locale,
      cause: mapped.cause,
      ...(mapped.messageId ? { messageId: mapped.messageId } : {}),
    });
  }
}

/** How long a probe may take: the server answered the failed attempt's connect at once. */
export const PROBE_TIMEOUT_MS = 3_000;

/**
 * Whether `host:port` answers a TLS handshake: the test that tells an implicit-TLS port (which
 * waits for the client's hello, so a plain-text client waits for a greeting that never comes)
 * from a server or firewall that accepts and stays silent. Runs only after an attempt failed;
 * it sends nothing but the handshake, and checks no certificate: it asks which protocol the
 * port speaks, not whom to trust.
 */
export function answersTls(host: string, port: number, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  return probe(timeoutMs, (done) => {
    const socket = connectTls({ host, port, rejectUnauthorized: false, ...(isIP(host) === 0 ? { servername: host } : {}) }, () => done(true));
    socket.on('error', () => done(false));
    return socket;
  });
}

/**
 * Whether `host:port` greets in plain text with an SMTP `220` line: a port that starts in clear
 * and upgrades with STARTTLS, where a TLS client read the greeting as a broken TLS record
 * ("wrong version number"). Runs only after such an attempt failed, and sends nothing.
 */
export function greetsInPlainText(host: string, port: number, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  return probe(timeoutMs, (done) => {
    const socket = connectTcp({ host, port });
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (text.includes('\n') || text.length >= 4) done(/^220[ -]/.test(text));
    });
    socket.on('error', () => done(false));
    socket.on('end', () => done(false));
    return socket;
  });
}

function probe(timeoutMs: number, start: (done: (answer: boolean) => void) => { destroy(): void }): Promise<boolean> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (answer: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    const socket = start(done);
  });
}
