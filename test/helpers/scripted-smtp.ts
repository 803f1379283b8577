import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, TLSSocket } from 'node:tls';
import { testCert } from './certs.js';

/** Points of an SMTP session a script can answer for. `dot` is the reply to the message's final dot. */
export type ScriptedStep = 'greeting' | 'ehlo' | 'starttls' | 'auth' | 'mail' | 'rcpt' | 'data' | 'dot';

/** Where a script can cut the connection, without a word (no 421, no QUIT). */
export type DropPoint = 'before-greeting' | 'after-ehlo' | 'after-auth' | 'after-mail' | 'after-rcpt' | 'mid-data' | 'after-dot';

/** What one connection does. Anything not scripted gets a plain successful reply. */
export interface SessionScript {
  /**
   * Replies, as Google sends them: lines joined by `\n`, each with its `NNN-`/`NNN ` prefix;
   * they go out byte for byte, with CRLF line ends. For `auth`, a list answers the AUTH
   * command and then each line the client sends in that exchange (an XOAUTH2 334 challenge,
   * then the 535).
   */
  replies?: Partial<Record<ScriptedStep, string | readonly string[]>>;
  drop?: DropPoint;
  /** With `mid-data`: message bytes to read before dropping. @default 65536 */
  dropAfterBytes?: number;
}

export interface ScriptedSmtpOptions {
  /** `implicit`: TLS from the first byte (port 465 style); `starttls`: offered after EHLO. @default 'implicit' */
  tls?: 'implicit' | 'starttls';
  /** One script for every connection, or the script of the n-th connection (0-based). */
  script?: SessionScript | ((connection: number) => SessionScript);
  /** AUTH mechanisms advertised in EHLO. @default ['PLAIN', 'LOGIN', 'XOAUTH2'] */
  authMethods?: readonly string[];
}

/** A message whose final dot reached the server, whatever the server then did with it. */
export interface ReceivedMessage {
  connection: number;
  /** The DATA payload as sent (dot-stuffed, without the final dot line). */
  raw: Buffer;
  /** Whether the server answered the final dot with 250. */
  accepted: boolean;
}

export interface ScriptedSmtpServer {
  port: number;
  cert: string;
  readonly connections: number;
  /** Client lines per connection; AUTH payloads are replaced by `<auth>`. */
  transcripts: string[][];
  received: ReceivedMessage[];
  /** Messages answered with 250: the ones a real server would deliver for sure. */
  readonly accepted: number;
  close(): Promise<void>;
}

const DEFAULTS: Record<ScriptedStep, string> = {
  greeting: '220 scripted.test ESMTP ready',
  ehlo: '',
  starttls: '220 2.0.0 Ready to start TLS',
  auth: '235 2.7.0 Accepted',
  mail: '250 2.1.0 OK',
  rcpt: '250 2.1.5 OK',
  data: '354 Go ahead',
  dot: '250 2.0.0 OK queued as scripted',
};

const TERMINATOR = Buffer.from('\r\n.\r\n');

/**
 * A raw SMTP server on 127.0.0.1 for byte-exact replies and connection drops at chosen points,
 * which smtp-server cannot do (it rewrites multi-line replies and always answers). It speaks
 * just enough SMTP for nodemailer: EHLO/HELO, STARTTLS, AUTH, MAIL, RCPT, DATA, RSET, NOOP, QUIT.
 */
export async function startScriptedServer(options: ScriptedSmtpOptions = {}): Promise<ScriptedSmtpServer> {
  const { key, cert } = await testCert();
  const mode = options.tls ?? 'implicit';
  const authMethods = options.authMethods ?? ['PLAIN', 'LOGIN', 'XOAUTH2'];
  const transcripts: string[][] = [];
  const received: ReceivedMessage[] = [];
  const sockets = new Set<Socket>();
  const state = { connections: 0 };

  const scriptFor = (n: number): SessionScript => (typeof options.script === 'function' ? options.script(n) : (options.script ?? {}));

  const onConnection = (socket: Socket): void => {
    const index = state.connections++;
    const script = scriptFor(index);
    const transcript: string[] = [];
    transcripts.push(transcript);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let active: Socket = socket;
    let secure = mode === 'implicit';
    let buffer: Buffer = Buffer.alloc(0);
    let inData = false;
    let authQueue: string[] | undefined;
    let closed = false;

    const write = (reply: string): void => {
      if (closed) return;
      active.write(`${reply.split('\n').join('\r\n')}\r\n`);
      // RFC 5321 §3.8: a 421 reply means the server closes the channel.
      if (/^421[ -]/.test(reply.split('\n').at(-1) ?? '')) end();
    };
    const end = (): void => {
      closed = true;
      active.end();
    };
    const drop = (): void => {
      closed = true;
      active.destroy();
    };
    const reply = (step: Exclude<ScriptedStep, 'auth'>): string => {
      const scripted = script.replies?.[step];
      return typeof scripted === 'string' ? scripted : DEFAULTS[step];
    };
    const ehloReply = (): string => {
      const scripted = script.replies?.ehlo;
      if (typeof scripted === 'string') return scripted;
      const lines = ['scripted.test', ...(mode === 'starttls' && !secure ? ['STARTTLS'] : []), `AUTH ${authMethods.join(' ')}`, '8BITMIME'];
      return lines.map((line, i) => `250${i === lines.length - 1 ? ' ' : '-'}${line}`).join('\n');
    };
    const failed = (text: string): boolean => /^[45]/.test(text);

    const onLine = (line: string): void => {
      if (authQueue) {
        transcript.push('<auth>');
        const next = authQueue.shift();
        if (authQueue.length === 0) authQueue = undefined;
        write(next ?? DEFAULTS.auth);
        if (next === undefined && script.drop === 'after-auth') drop();
        return;
      }
      const verb = line.split(' ')[0]!.toUpperCase();
      transcript.push(verb === 'AUTH' ? `AUTH ${line.split(' ')[1] ?? ''} <auth>`.trim() : line);
      switch (verb) {
        case 'EHLO':
        case 'HELO':
          write(verb === 'HELO' && typeof script.replies?.ehlo !== 'string' ? '250 scripted.test' : ehloReply());
          if (script.drop === 'after-ehlo') drop();
          return;
        case 'STARTTLS': {
          const answer = reply('starttls');
          write(answer);
          // A refusal (454 "TLS not available", 502 from a server without it) keeps the session in clear.
          if (!failed(answer)) upgrade();
          return;
        }
        case 'AUTH': {
          const scripted = script.replies?.auth;
          const replies = scripted === undefined ? [DEFAULTS.auth] : typeof scripted === 'string' ? [scripted] : [...scripted];
          // AUTH LOGIN without an initial response asks for user and password first.
          if (/^AUTH LOGIN$/i.test(line.trim())) replies.unshift('334 VXNlcm5hbWU6', '334 UGFzc3dvcmQ6');
          const first = replies.shift()!;
          if (replies.length > 0) authQueue = replies;
          write(first);
          if (replies.length === 0 && script.drop === 'after-auth' && !failed(first)) drop();
          return;
        }
        case 'MAIL':
          write(reply('mail'));
          if (script.drop === 'after-mail') drop();
          return;
        case 'RCPT':
          write(reply('rcpt'));
          if (script.drop === 'after-rcpt') drop();
          return;
        case 'DATA': {
          const answer = reply('data');
          write(answer);
          if (!failed(answer)) {
            inData = true;
            // The CRLF that ended the DATA line may be the start of an empty message's terminator.
            tail = Buffer.from('\r\n');
          }
          return;
        }
        case 'RSET':
        case 'NOOP':
          write('250 2.0.0 OK');
          return;
        case 'QUIT':
          write('221 2.0.0 closing connection');
          end();
          return;
        default:
          write('502 5.5.1 Unrecognized command');
      }
    };

    const onMessage = (raw: Buffer): void => {
      const answer = reply('dot');
      if (script.drop === 'after-dot') {
        received.push({ connection: index, raw, accepted: false });
        drop();
        return;
      }
      received.push({ connection: index, raw, accepted: /^250/.test(answer) });
      write(answer);
    };

    // DATA is kept as a list of chunks and searched only across the seam, so a message of
    // tens of megabytes costs one copy, when its final dot arrives.
    let dataChunks: Buffer[] = [];
    let dataLength = 0;
    let tail: Buffer = Buffer.alloc(0);
    const onDataChunk = (chunk: Buffer): void => {
      const seam = Buffer.concat([tail, chunk]);
      const at = seam.indexOf(TERMINATOR);
      if (at < 0) {
        dataChunks.push(chunk);
        dataLength += chunk.length;
        tail = Buffer.from(seam.subarray(Math.max(0, seam.length - 4)));
        if (script.drop === 'mid-data' && dataLength >= (script.dropAfterBytes ?? 65_536)) drop();
        return;
      }
      const full = Buffer.concat([...dataChunks, chunk]);
      const end = dataLength - tail.length + at;
      inData = false;
      dataChunks = [];
      dataLength = 0;
      onMessage(full.subarray(0, Math.max(0, end + 2)));
      const rest = full.subarray(end + TERMINATOR.length);
      if (rest.length > 0 && !closed) onData(rest);
    };

    const onData = (chunk: Buffer): void => {
      if (closed) return;
      if (inData) {
        onDataChunk(chunk);
        return;
      }
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      while (buffer.length > 0 && !closed && !inData) {
        const eol = buffer.indexOf('\r\n');
        if (eol < 0) return;
        const line = buffer.subarray(0, eol).toString('utf8');
        buffer = buffer.subarray(eol + 2);
        onLine(line);
        if (upgrading) return;
      }
      if (inData && buffer.length > 0) {
        const rest = buffer;
        buffer = Buffer.alloc(0);
        onDataChunk(rest);
      }
    };

    let upgrading = false;
    const upgrade = (): void => {
      upgrading = true;
      socket.removeAllListeners('data');
      const tlsSocket = new TLSSocket(socket, { isServer: true, key, cert });
      tlsSocket.on('error', () => {});
      tlsSocket.on('secure', () => {
        secure = true;
        upgrading = false;
      });
      tlsSocket.on('data', onData);
      active = tlsSocket;
      buffer = Buffer.alloc(0);
    };

    active.on('data', onData);
    if (script.drop === 'before-greeting') {
      drop();
      return;
    }
    write(script.replies?.greeting !== undefined ? (script.replies.greeting as string) : DEFAULTS.greeting);
  };

  const server: Server = mode === 'implicit' ? createTlsServer({ key, cert }, onConnection) : createNetServer(onConnection);
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    cert,
    transcripts,
    received,
    get connections() {
      return state.connections;
    },
    get accepted() {
      return received.filter((m) => m.accepted).length;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
