import { createServer, type Server, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { TestCert } from './certs.js';

export interface SoakServerOptions {
  cert: TestCert;
  /** The header naming each message. */
  idHeader: string;
  /** Whether the n-th attempt (1-based) of message `id` is answered 421 at its final dot. */
  refuse(id: string, attempt: number): boolean;
  /** Whether an XOAUTH2 access token is valid now (issued and not expired). */
  tokenValid(token: string): boolean;
}

export interface SoakServer {
  port: number;
  /** Deliveries per message id: a message taken twice shows as 2. */
  readonly delivered: Map<string, number>;
  /** Final dots seen per message id (attempts that reached the server's decision). */
  readonly attempts: Map<string, number>;
  readonly stats: { connections: number; refused421: number; loginsRefused: number; logins: number };
  close(): Promise<void>;
}

// Gmail's XOAUTH2 challenge (RFC 7628 §3.2.2 error JSON), then its 535 after the client's empty line.
const XOAUTH2_CHALLENGE = `334 ${Buffer.from(JSON.stringify({ status: '401', schemes: 'bearer', scope: 'https://mail.google.com/' })).toString('base64')}`;
const BAD_CREDENTIALS = '535-5.7.8 Username and Password not accepted. Learn more at\r\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials soak';
const TERMINATOR = '\r\n.\r\n';

/**
 * A minimal, fast SMTP server over implicit TLS for the soak: greets at once (smtp-server waits
 * 100 ms per connection, which a run with a thousand reconnections cannot afford), checks
 * XOAUTH2 tokens like Gmail, counts deliveries by a header, and answers the final dot of
 * chosen attempts with 421 and closes (RFC 5321 §3.8), keeping nothing of them.
 */
export async function startSoakServer(options: SoakServerOptions): Promise<SoakServer> {
  const delivered = new Map<string, number>();
  const attempts = new Map<string, number>();
  const stats = { connections: 0, refused421: 0, loginsRefused: 0, logins: 0 };
  const sockets = new Set<TLSSocket>();
  const headerPattern = new RegExp(`^${options.idHeader}:[ \\t]*(\\S+)`, 'im');

  const server: Server = createServer({ key: options.cert.key, cert: options.cert.cert }, (socket) => {
    stats.connections++;
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    socket.once('close', () => sockets.delete(socket));
    let buffer = '';
    let inData = false;
    let challenged = false;
    const say = (line: string): void => {
      if (!socket.destroyed) socket.write(`${line}\r\n`);
    };

    const onMessage = (body: string): void => {
      const headers = body.slice(0, Math.max(0, body.indexOf('\r\n\r\n')));
      const id = headerPattern.exec(headers)?.[1] ?? '?';
      const attempt = (attempts.get(id) ?? 0) + 1;
      attempts.set(id, attempt);
      if (options.refuse(id, attempt)) {
        stats.refused421++;
        say('421 4.7.0 Temporary System Problem.  Try again later (10). soak');
        socket.end();
        return;
      }
      delivered.set(id, (delivered.get(id) ?? 0) + 1);
      say('250 2.0.0 OK queued');
    };

    const onLine = (line: string): void => {
      if (challenged) {
        challenged = false;
        say(BAD_CREDENTIALS);
        return;
      }
      const verb = line.slice(0, 4).toUpperCase();
      if (verb === 'EHLO' || verb === 'HELO') say('250-soak.test\r\n250-AUTH XOAUTH2\r\n250 8BITMIME');
      else if (verb === 'AUTH') {
        stats.logins++;
        const [, mechanism = '', initial = ''] = line.split(' ');
        const token = /auth=Bearer ([^\x01]+)/.exec(Buffer.from(initial, 'base64').toString('utf8'))?.[1];
        if (mechanism.toUpperCase() === 'XOAUTH2' && token !== undefined && options.tokenValid(token)) say('235 2.7.0 Accepted');
        else {
          stats.loginsRefused++;
          challenged = true;
          say(XOAUTH2_CHALLENGE);
        }
      } else if (verb === 'MAIL') say('250 2.1.0 OK');
      else if (verb === 'RCPT') say('250 2.1.5 OK');
      else if (verb === 'DATA') {
        inData = true;
        say('354 Go ahead');
      } else if (verb === 'RSET' || verb === 'NOOP') say('250 2.0.0 OK');
      else if (verb === 'QUIT') {
        say('221 2.0.0 closing connection');
        socket.end();
      } else say('502 5.5.1 Unrecognized command');
    };

    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (;;) {
        if (inData) {
          // The body begins right after the DATA line's CRLF, which may start the terminator.
          const end = `\r\n${buffer}`.indexOf(TERMINATOR);
          if (end < 0) return;
          const body = buffer.slice(0, Math.max(0, end));
          buffer = buffer.slice(end + TERMINATOR.length - 2);
          inData = false;
          onMessage(body);
          continue;
        }
        const eol = buffer.indexOf('\r\n');
        if (eol < 0) return;
        const line = buffer.slice(0, eol);
        buffer = buffer.slice(eol + 2);
        onLine(line);
      }
    });
    say('220 soak.test ESMTP ready');
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    delivered,
    attempts,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
