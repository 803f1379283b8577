import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { TLSSocket, createSecureContext } from 'node:tls';
import { testCert, type TestCert } from './certs.js';

/** Where the proxy cuts a connection without a word (no 421, no QUIT). */
export type DropPoint =
  | 'before-greeting'
  | 'after-ehlo'
  | 'after-auth'
  /** While the body streams: after `afterBytes` of it, never forwarding the final dot. */
  | 'mid-data'
  /** The final dot reached the server, which answered; the answer is not relayed. */
  | 'after-dot'
  /** The final dot left the client but never reaches the server. */
  | 'dot-lost';

/** Where the proxy stops forwarding anything, so that one of the client's timeouts fires. */
export type StallPoint =
  /** TCP accepted, TLS handshake never answered: `connectionTimeoutMs`. */
  | 'handshake'
  /** TLS up, no greeting: `greetingTimeoutMs`. */
  | 'greeting'
  /** The EHLO reply withheld: `socketTimeoutMs`. */
  | 'after-ehlo'
  /** The final dot reached the server; its reply is withheld: `socketTimeoutMs`. */
  | 'dot-reply';

/** Where the proxy answers 421 itself (RFC 5321 §3.8: the server closes right after). */
export type Reply421Point = 'greeting' | 'ehlo' | 'mail' | 'dot';

/** What the proxy does with one connection. */
export type Fault =
  { kind: 'pass' } | { kind: 'drop'; at: DropPoint; afterBytes?: number } | { kind: 'stall'; at: StallPoint } | { kind: 'reply421'; at: Reply421Point };

export const PASS: Fault = { kind: 'pass' };
export const drop = (at: DropPoint, afterBytes?: number): Fault => ({ kind: 'drop', at, ...(afterBytes !== undefined ? { afterBytes } : {}) });
export const stall = (at: StallPoint): Fault => ({ kind: 'stall', at });
export const reply421 = (at: Reply421Point): Fault => ({ kind: 'reply421', at });

/** Gmail's wording for a temporary refusal that ends the session. */
export const REPLY_421 = '421 4.7.0 Temporary System Problem.  Try again later (10). fault-proxy';

/** What happened to one connection, for assertions and for a failing test's message. */
export interface ProxiedConnection {
  index: number;
  fault: Fault;
  /** `tls-failed`, `injected:<point>` when the fault fired, `closed` otherwise. Set on close. */
  outcome?: string;
  /** Whether the planned fault was reached (a pass-through counts as reached). */
  faulted: boolean;
  /** Final dots relayed to the server on this connection. */
  dots: number;
  /** Bytes of SMTP the client sent (after TLS): 0 means not even EHLO, let alone credentials. */
  clientBytes: number;
}

export interface FaultProxyOptions {
  /** Port of the plain-text SMTP server on 127.0.0.1 behind the proxy. */
  target: number;
  /** One fault for every connection, or the fault of the n-th connection (0-based). @default PASS */
  plan?: Fault | ((connection: number) => Fault);
  /** The certificate the proxy presents. @default testCert() (valid for 127.0.0.1) */
  cert?: TestCert;
}

export interface FaultProxy {
  port: number;
  /** The certificate the proxy presents, for the client's `tls.ca`. */
  cert: string;
  readonly connections: ProxiedConnection[];
  /** Client connections open right now. */
  readonly open: number;
  setPlan(plan: Fault | ((connection: number) => Fault)): void;
  /** Resolves once no client connection is open (every stalled one included). */
  whenIdle(): Promise<void>;
  close(): Promise<void>;
}

const TERMINATOR = Buffer.from('\r\n.\r\n');

/**
 * A TCP proxy on 127.0.0.1 that terminates TLS (port-465 style, with the certificate it is
 * given) and relays SMTP in clear to a local server, watching both directions so that it can
 * fault one connection at an exact point of the session: drop it, stall it, or answer 421
 * itself. It tracks the dialogue (which reply answers which command, and the body between 354
 * and the final `\r\n.\r\n`, RFC 5321 §4.1.1.4), so a fault lands where it is named whatever
 * the client pipelines or however TCP splits the bytes.
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const cert = options.cert ?? (await testCert());
  const secureContext = createSecureContext({ key: cert.key, cert: cert.cert });
  let plan = options.plan ?? PASS;
  const connections: ProxiedConnection[] = [];
  const openClients = new Set<Socket>();
  const others = new Set<Socket>();
  let idleWaiters: (() => void)[] = [];

  const onClosed = (socket: Socket): void => {
    openClients.delete(socket);
    if (openClients.size === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  };

  const server: Server = createServer((raw) => {
    const record: ProxiedConnection = {
      index: connections.length,
      fault: typeof plan === 'function' ? plan(connections.length) : plan,
      faulted: false,
      dots: 0,
      clientBytes: 0,
    };
    connections.push(record);
    openClients.add(raw);
    raw.on('error', () => undefined);
    raw.once('close', () => {
      record.outcome ??= 'closed';
      onClosed(raw);
    });
    const { fault } = record;
    if (fault.kind === 'stall' && fault.at === 'handshake') {
      // Read and ignore the ClientHello: the handshake never progresses, yet the client's
      // close is seen.
      record.faulted = true;
      record.outcome = 'injected:stall-handshake';
      raw.on('data', () => undefined);
      raw.once('end', () => raw.destroy());
      return;
    }
    const client = new TLSSocket(raw, { isServer: true, secureContext });
    client.on('error', () => {
      if (!record.faulted) record.outcome ??= 'tls-failed';
      raw.destroy();
    });
    client.once('secure', () => new Session(client, raw, record, options.target, others).start());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });

  return {
    port: (server.address() as AddressInfo).port,
    cert: cert.cert,
    connections,
    get open() {
      return openClients.size;
    },
    setPlan(next) {
      plan = next;
    },
    whenIdle: () => (openClients.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.push(resolve))),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of [...openClients, ...others]) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** One proxied SMTP session: the client side in TLS, the server side in clear. */
class Session {
  #backend: Socket | undefined;
  /** Which command each awaited server reply answers, oldest first; the greeting comes first. */
  readonly #awaiting: string[] = ['GREETING'];
  #fromServer = '';
  #fromClient: Buffer = Buffer.alloc(0);
  #inData = false;
  #dataBytes = 0;
  #tail: Buffer = Buffer.alloc(0);
  #authContinues = false;
  #stalled = false;
  #over = false;

  constructor(
    readonly client: TLSSocket,
    readonly raw: Socket,
    readonly record: ProxiedConnection,
    readonly target: number,
    readonly others: Set<Socket>,
  ) {}

  start(): void {
    // Counted from the first byte, so a test can tell that nothing (no credentials) was sent.
    this.client.on('data', (chunk: Buffer) => {
      this.record.clientBytes += chunk.length;
      if (this.#backend) this.#onClientBytes(chunk);
    });
    const { fault } = this.record;
    if (fault.kind === 'drop' && fault.at === 'before-greeting') return this.#inject('drop-before-greeting', () => this.#cut());
    if (fault.kind === 'reply421' && fault.at === 'greeting') return this.#inject('421-greeting', () => this.#refuse());
    if (fault.kind === 'stall' && fault.at === 'greeting') return this.#inject('stall-greeting', () => this.#stall());
    const backend = connect(this.target, '127.0.0.1');
    this.#backend = backend;
    this.others.add(backend);
    backend.setNoDelay(true);
    backend.on('error', () => undefined);
    backend.once('close', () => {
      this.others.delete(backend);
      if (!this.#stalled) this.#finish();
    });
    backend.on('data', (chunk: Buffer) => this.#onServerBytes(chunk));
    this.client.once('end', () => this.#finish());
    this.client.once('close', () => this.#finish());
  }

  #is(kind: Fault['kind'], at: string): boolean {
    const { fault } = this.record;
    return fault.kind === kind && (fault as { at: string }).at === at;
  }

  #inject(outcome: string, action: () => void): void {
    this.record.faulted = true;
    this.record.outcome = `injected:${outcome}`;
    action();
  }

  /** Ends both sides at once, with nothing more relayed: the connection is simply gone. */
  #cut(): void {
    this.#over = true;
    this.client.destroy();
    this.raw.destroy();
    this.#backend?.destroy();
  }

  /** Answers 421 on the server's behalf and closes, as a server that is going away does. */
  #refuse(): void {
    this.#over = true;
    this.#backend?.destroy();
    this.client.end(`${REPLY_421}\r\n`);
    this.client.once('finish', () => this.raw.end());
  }

  /** Forwards nothing more either way; the client's own timeout has to end it. */
  #stall(): void {
    this.#stalled = true;
    this.client.once('end', () => this.#cut());
    this.client.once('close', () => this.#cut());
  }

  #finish(): void {
    if (this.#over) return;
    this.#over = true;
    this.client.end();
    this.client.once('finish', () => this.raw.end());
    this.#backend?.end();
  }

  #onServerBytes(chunk: Buffer): void {
    if (this.#over || this.#stalled) return;
    this.#fromServer += chunk.toString('latin1');
    for (;;) {
      // A reply is complete at its last line, `NNN text` (a space after the code, RFC 5321 §4.2.1).
      const end = /(?:^|\r\n)(\d{3})(?: [^\r\n]*)?\r\n/.exec(this.#fromServer);
      if (!end) return;
      const stop = end.index + end[0].length;
      const reply = this.#fromServer.slice(0, stop);
      this.#fromServer = this.#fromServer.slice(stop);
      this.#onReply(reply, Number(end[1]));
      if (this.#over || this.#stalled) return;
    }
  }

  #onReply(reply: string, code: number): void {
    const answers = this.#awaiting.shift() ?? '?';
    if (answers === 'EHLO' || answers === 'HELO') {
      if (this.#is('stall', 'after-ehlo')) return this.#inject('stall-after-ehlo', () => this.#stall());
      this.client.write(reply, 'latin1');
      if (this.#is('drop', 'after-ehlo')) this.#inject('drop-after-ehlo', () => this.#cut());
      return;
    }
    if (answers === 'DOT') {
      if (this.#is('drop', 'after-dot')) return this.#inject('drop-after-dot', () => this.#cut());
      if (this.#is('stall', 'dot-reply')) return this.#inject('stall-dot-reply', () => this.#stall());
      this.client.write(reply, 'latin1');
      return;
    }
    this.#authContinues = code === 334;
    this.client.write(reply, 'latin1');
    if (code === 235 && this.#is('drop', 'after-auth')) return this.#inject('drop-after-auth', () => this.#cut());
    if (answers === 'DATA' && code === 354) {
      this.#inData = true;
      this.#dataBytes = 0;
      // The CRLF that ended the DATA line may begin the terminator of an empty body.
      this.#tail = Buffer.from('\r\n');
      if (this.#fromClient.length > 0) {
        const rest = this.#fromClient;
        this.#fromClient = Buffer.alloc(0);
        this.#onBody(rest);
      }
    }
  }

  #onClientBytes(chunk: Buffer): void {
    if (this.#over || this.#stalled) return;
    if (this.#inData) return this.#onBody(chunk);
    this.#fromClient = this.#fromClient.length === 0 ? chunk : Buffer.concat([this.#fromClient, chunk]);
    while (!this.#inData && !this.#over) {
      const eol = this.#fromClient.indexOf('\r\n');
      if (eol < 0) return;
      const line = this.#fromClient.subarray(0, eol + 2);
      this.#fromClient = this.#fromClient.subarray(eol + 2);
      this.#onCommand(line);
      // The body starts only after the server's 354 has come back through us.
      if (this.#awaiting.at(-1) === 'DATA') return;
    }
  }

  #onCommand(line: Buffer): void {
    const verb = this.#authContinues ? 'AUTH-LINE' : line.toString('latin1').split(/[ \r]/)[0]!.toUpperCase();
    this.#authContinues = false;
    if ((verb === 'EHLO' || verb === 'HELO') && this.#is('reply421', 'ehlo')) return this.#inject('421-ehlo', () => this.#refuse());
    if (verb === 'MAIL' && this.#is('reply421', 'mail')) return this.#inject('421-mail', () => this.#refuse());
    this.#awaiting.push(verb);
    this.#backend!.write(line);
  }

  #onBody(chunk: Buffer): void {
    const seam = Buffer.concat([this.#tail, chunk]);
    const found = seam.indexOf(TERMINATOR);
    // Bytes of `chunk` that belong to the body proper (before the terminator), and where the
    // terminator ends in `chunk`.
    const bodyEnd = found < 0 ? chunk.length : Math.max(0, found - this.#tail.length);
    const dotEnd = found < 0 ? -1 : found + TERMINATOR.length - this.#tail.length;
    if (this.#is('drop', 'mid-data')) {
      const limit = (this.record.fault as { afterBytes?: number }).afterBytes ?? 64 * 1024;
      const allowed = Math.min(bodyEnd, Math.max(0, limit - this.#dataBytes));
      if (allowed < bodyEnd || found >= 0) {
        this.#backend!.write(chunk.subarray(0, allowed));
        return this.#inject('drop-mid-data', () => this.#cut());
      }
    }
    if (found >= 0 && this.#is('drop', 'dot-lost')) {
      this.#backend!.write(chunk.subarray(0, bodyEnd));
      return this.#inject('drop-dot-lost', () => this.#cut());
    }
    if (found >= 0 && this.#is('reply421', 'dot')) {
      // The server never sees the dot, so it keeps nothing: what a 421 at the dot means.
      return this.#inject('421-dot', () => this.#refuse());
    }
    this.#dataBytes += bodyEnd;
    this.#tail = Buffer.from(seam.subarray(Math.max(0, seam.length - (TERMINATOR.length - 1))));
    if (found < 0) {
      this.#backend!.write(chunk);
      return;
    }
    this.#backend!.write(chunk.subarray(0, dotEnd));
    this.record.dots++;
    this.#inData = false;
    this.#awaiting.push('DOT');
    const rest = chunk.subarray(dotEnd);
    if (rest.length > 0) this.#onClientBytes(rest);
  }
}
