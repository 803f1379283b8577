import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

/**
 * A raw SMTP client that behaves like an old office printer: one command at a time, AUTH LOGIN
 * (user name and password as separate base64 lines), no pipelining, and it reads every reply
 * in full before the next command. It records every reply it got.
 */
export class RawSmtpClient {
  readonly replies: string[] = [];
  #socket: Socket | TLSSocket;
  #buffer = '';
  #waiters: Array<() => void> = [];
  #closed = false;

  private constructor(socket: Socket) {
    this.#socket = socket;
    this.#listen(socket);
  }

  /** `localAddress`: the device's own address, e.g. `127.0.0.7` (any of 127.0.0.0/8 works on Linux). */
  static async connect(port: number, opts: { implicitTls?: boolean; ca?: string; host?: string; localAddress?: string } = {}): Promise<RawSmtpClient> {
    const host = opts.host ?? '127.0.0.1';
    const local = opts.localAddress ? { localAddress: opts.localAddress } : {};
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = opts.implicitTls
        ? tlsConnect({ port, host, ...local, ca: opts.ca ? [opts.ca] : [], servername: 'localhost' }, () => resolve(s))
        : netConnect({ port, host, ...local }, () => resolve(s));
      s.once('error', reject);
    });
    return new RawSmtpClient(socket);
  }

  get closed(): boolean {
    return this.#closed;
  }

  #listen(socket: Socket): void {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.#buffer += chunk;
      this.#wake();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#wake();
    });
    socket.on('error', () => undefined);
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** Reads one complete reply (all lines of a multi-line one). */
  async read(): Promise<string> {
    for (;;) {
      const match = /^(?:\d{3}-[^\r\n]*\r\n)*\d{3}(?: [^\r\n]*)?\r\n/.exec(this.#buffer);
      if (match) {
        this.#buffer = this.#buffer.slice(match[0].length);
        const reply = match[0].trimEnd();
        this.replies.push(reply);
        return reply;
      }
      if (this.#closed) return '';
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  async command(line: string): Promise<string> {
    this.#socket.write(`${line}\r\n`);
    return this.read();
  }

  /** Writes raw bytes without waiting for a reply. */
  write(data: string | Buffer): void {
    this.#socket.write(data);
  }

  async startTls(ca?: string): Promise<string> {
    const reply = await this.command('STARTTLS');
    if (!reply.startsWith('220')) return reply;
    const plain = this.#socket as Socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    const secure = await new Promise<TLSSocket>((resolve, reject) => {
      const s = tlsConnect({ socket: plain, ca: ca ? [ca] : [], servername: 'localhost' }, () => resolve(s));
      s.once('error', reject);
    });
    this.#socket = secure;
    this.#listen(secure as unknown as Socket);
    return reply;
  }

  close(): void {
    this.#socket.destroy();
  }
}

export interface PrinterJob {
  user?: string;
  pass?: string;
  from: string;
  to: string[];
  /** The message as the printer composed it (CRLF line ends). */
  message: string;
  /** STARTTLS before AUTH, trusting this certificate. */
  startTls?: { ca: string };
  implicitTls?: { ca: string };
  /** The printer's own address (see RawSmtpClient.connect). */
  localAddress?: string;
}

/**
 * One scan-to-mail job the way a printer sends it. Stops at the first refusal and returns
 * every reply plus the one that decided (the reply to the final dot when it got that far).
 */
export async function printerSend(port: number, job: PrinterJob): Promise<{ replies: string[]; final: string; ehlo: string }> {
  const client = await RawSmtpClient.connect(port, {
    ...(job.implicitTls ? { implicitTls: true, ca: job.implicitTls.ca } : {}),
    ...(job.localAddress ? { localAddress: job.localAddress } : {}),
  });
  try {
    const greeting = await client.read();
    if (!greeting.startsWith('220')) return { replies: client.replies, final: greeting, ehlo: '' };
    let ehlo = await client.command('EHLO printer.local');
    if (job.startTls) {
      const started = await client.startTls(job.startTls.ca);
      if (!started.startsWith('220')) return { replies: client.replies, final: started, ehlo };
      ehlo = await client.command('EHLO printer.local');
    }
    if (job.user !== undefined) {
      const step = await client.command('AUTH LOGIN');
      if (!step.startsWith('334')) return { replies: client.replies, final: step, ehlo };
      await client.command(Buffer.from(job.user).toString('base64'));
      const auth = await client.command(Buffer.from(job.pass ?? '').toString('base64'));
      if (!auth.startsWith('235')) return { replies: client.replies, final: auth, ehlo };
    }
    const mail = await client.command(`MAIL FROM:<${job.from}>`);
    if (!mail.startsWith('250')) return { replies: client.replies, final: mail, ehlo };
    for (const rcpt of job.to) {
      const r = await client.command(`RCPT TO:<${rcpt}>`);
      if (!r.startsWith('250')) return { replies: client.replies, final: r, ehlo };
    }
    const data = await client.command('DATA');
    if (!data.startsWith('354')) return { replies: client.replies, final: data, ehlo };
    // Dot-stuffing (RFC 5321 4.5.2), as any SMTP client must.
    const body = job.message.replace(/\r\n\./g, '\r\n..');
    const final = await client.command(`${body}${body.endsWith('\r\n') ? '' : '\r\n'}.`);
    await client.command('QUIT').catch(() => '');
    return { replies: client.replies, final, ehlo };
  } finally {
    client.close();
  }
}

/** A small scan-to-mail message, CRLF line ends, with a base64 "PDF" attachment. */
export function scanMessage(opts: { from: string; to: string; subject?: string; attachmentBytes?: number; messageId?: string }): string {
  const attachment = Buffer.alloc(opts.attachmentBytes ?? 600, 0x25)
    .toString('base64')
    .replace(/.{76}/g, '$&\r\n');
  return [
    `From: Office Scanner <${opts.from}>`,
    `To: ${opts.to}`,
    `Subject: ${opts.subject ?? 'Scanned document'}`,
    `Message-ID: ${opts.messageId ?? `<scan-${Math.random().toString(36).slice(2)}@printer.local>`}`,
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'Scanned on the 3rd floor.',
    '.a line that starts with a dot',
    '--b1',
    'Content-Type: application/pdf; name="scan.pdf"',
    'Content-Transfer-Encoding: base64',
    '',
    attachment.trimEnd(),
    '--b1--',
    '',
  ].join('\r\n');
}
