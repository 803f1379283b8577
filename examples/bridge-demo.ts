/**
 * The bridge part of `npm run demo`: a simulated office printer sends a scan to the SMTP bridge
 * the way printers do (STARTTLS, AUTH LOGIN, the message), and the bridge delivers it upstream
 * to the demo's embedded SMTP server. Self-contained: call `runBridgeDemo(server.smtp)`.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBridge, hashPassword, type BridgeMessageRecord } from '../src/bridge/index.js';

/** Where the embedded server listens and the certificate that makes it trusted. */
export interface EmbeddedSmtp {
  host: string;
  port: number;
  secure: boolean;
  tls: { ca: string[] };
}

/**
 * Runs the printer → bridge → embedded server delivery once, printing the conversation.
 * Resolves with the subject sent (so the caller can look it up in its inbox) and whether the
 * printer got its 250.
 */
export async function runBridgeDemo(embedded: EmbeddedSmtp, print: (line: string) => void = console.log): Promise<{ delivered: boolean; subject: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'gmail-transport-bridge-demo-'));
  const printerPassword = 'demo-printer-password-3f';
  const subject = `Scan from the 3rd floor printer ${new Date().toISOString()}`;
  const records: BridgeMessageRecord[] = [];
  const bridge = createBridge({
    listen: { host: '127.0.0.1', port: 0 },
    tls: { selfSigned: true },
    accounts: [{ user: 'printer-3f', passwordHash: await hashPassword(printerPassword), allowFrom: ['scans@example.com'] }],
    // The embedded server stands in for smtp.gmail.com; in real life this is an oauth2 config.
    upstream: { strategy: 'app-password', user: 'scans@example.com', appPassword: 'abcd efgh ijkl mnop', smtp: embedded },
    baseDir: dir,
  });
  bridge.on('message', (record) => records.push(record));
  try {
    const [address] = await bridge.listen();
    const ca = await readFile(join(dir, 'gmail-transport-bridge.crt'), 'utf8');
    print(`  bridge listening on ${address!.host}:${address!.port} (STARTTLS with a self-signed certificate kept in ${dir})`);
    const printer = await SmtpLines.open(address!.port);
    const say = async (line: string, shown = line) => {
      print(`  printer: ${shown}`);
      const reply = await printer.send(line);
      print(`  bridge:  ${reply.split('\r\n').join('\n           ')}`);
      return reply;
    };
    print(`  bridge:  ${await printer.read()}`);
    await say('EHLO printer-3f.office.lan');
    await say('STARTTLS');
    await printer.upgrade(ca);
    await say('EHLO printer-3f.office.lan');
    await say('AUTH LOGIN');
    await say(Buffer.from('printer-3f').toString('base64'));
    await say(Buffer.from(printerPassword).toString('base64'), '******** (password, base64)');
    await say('MAIL FROM:<scans@example.com>');
    await say('RCPT TO:<alice@example.com>');
    await say('DATA');
    const message = [
      'From: Office Scanner <scans@example.com>',
      'To: alice@example.com',
      `Subject: ${subject}`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain',
      '',
      'Your scan (3 pages).',
      '.',
    ].join('\r\n');
    const final = await say(message, '<the scan message> .');
    await say('QUIT');
    printer.close();
    const record = records[0];
    if (record) print(`  bridge log: ${JSON.stringify(record)}`);
    return { delivered: final.startsWith('250'), subject };
  } finally {
    await bridge.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** A minimal line-oriented SMTP client, one command at a time, as printers behave. */
class SmtpLines {
  #socket: Socket;
  #buffer = '';
  #wake?: () => void;

  private constructor(socket: Socket) {
    this.#socket = socket;
    this.#attach(socket);
  }

  static open(port: number): Promise<SmtpLines> {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ port, host: '127.0.0.1' }, () => resolve(new SmtpLines(socket)));
      socket.once('error', reject);
    });
  }

  #attach(socket: Socket): void {
    socket.on('data', (chunk: Buffer) => {
      this.#buffer += chunk.toString('utf8');
      this.#wake?.();
    });
  }

  async read(): Promise<string> {
    for (;;) {
      const match = /^(?:\d{3}-[^\r\n]*\r\n)*\d{3}(?: [^\r\n]*)?\r\n/.exec(this.#buffer);
      if (match) {
        this.#buffer = this.#buffer.slice(match[0].length);
        return match[0].trimEnd();
      }
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  send(line: string): Promise<string> {
    this.#socket.write(`${line}\r\n`);
    return this.read();
  }

  async upgrade(ca: string): Promise<void> {
    this.#socket.removeAllListeners('data');
    this.#socket = await new Promise<Socket>((resolve, reject) => {
      const secure = tlsConnect({ socket: this.#socket, ca: [ca], servername: 'localhost' }, () => resolve(secure));
      secure.once('error', reject);
    });
    this.#attach(this.#socket);
  }

  close(): void {
    this.#socket.destroy();
  }
}
