import { connect as connectTcp, isIP } from 'node:net';
import { connect as connectTls } from 'node:tls';

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
