import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGmailTransport, hintFor, type GmailTransportConfig, type GmailTransportError } from '../../../src/index.js';
import { main } from '../../../src/cli/main.js';
import { testCert } from '../../helpers/certs.js';
import { startRecordingServer } from '../../helpers/smtp-server.js';
import { startScriptedServer } from '../../helpers/scripted-smtp.js';
import { expectNoSecret } from '../../contract/strategy.js';

// Issue 19, items 2, 3 and 5: a TLS mode that does not match the port, the reason a connection
// failed, and a relay without TLS.
const PASSWORD = 'FAKE-TLS-MODE-PASS-2b7c';
const MESSAGE = { from: 'me@example.com', to: 'you@example.com', subject: 'tls mode', text: 'hello' };
const RETRYING = { attempts: 3, minDelayMs: 1, maxDelayMs: 1 };

/** A TCP server that counts connections and hands each socket to `onSocket`. */
interface CountingServer {
  port: number;
  readonly connections: number;
  close(): Promise<void>;
}

async function listen(server: Server, sockets: Set<Socket>): Promise<CountingServer> {
  let connections = 0;
  server.on('connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** An implicit-TLS SMTP port: it says nothing until the client's TLS hello, then greets. */
async function implicitTlsPort(): Promise<CountingServer> {
  const { key, cert } = await testCert();
  const server = createTlsServer({ key, cert }, (socket) => socket.write('220 implicit.test ESMTP\r\n'));
  server.on('tlsClientError', () => {});
  return listen(server, new Set());
}

/** A server (or firewall) that accepts connections and never says a word. */
async function silentPort(): Promise<CountingServer> {
  return listen(createNetServer(), new Set());
}

function relay(port: number, secure: boolean, extra: Record<string, unknown> = {}): GmailTransportConfig {
  return {
    strategy: 'relay',
    host: '127.0.0.1',
    port,
    secure,
    auth: { user: 'relay-user', pass: PASSWORD },
    retry: RETRYING,
    ...extra,
  } as GmailTransportConfig;
}

async function failure(config: GmailTransportConfig, run: 'send' | 'verify' = 'send'): Promise<{ err: GmailTransportError; ms: number }> {
  const mailer = createGmailTransport(config);
  const started = Date.now();
  const err = (await (run === 'send' ? mailer.sendMail(MESSAGE) : mailer.verify()).then(
    () => undefined,
    (e: unknown) => e,
  )) as GmailTransportError;
  const ms = Date.now() - started;
  mailer.close();
  expect(err, 'the attempt must fail').toBeDefined();
  expectNoSecret(err, [PASSWORD]);
  return { err, ms };
}

const servers: CountingServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('issue 19: secure: false against a port that expects implicit TLS', () => {
  it('fails within 15 s with the default timeouts, not retried, with a hint naming secure: true and port 465', async () => {
    const server = await implicitTlsPort();
    servers.push(server);
    const { err, ms } = await failure(relay(server.port, false));
    expect(ms).toBeLessThan(15_000);
    expect(err).toMatchObject({ code: 'TLS_FAILED', retryable: false, phase: 'tls', strategy: 'relay' });
    expect(err.message).toMatch(
      new RegExp(
        `127\\.0\\.0\\.1:${server.port} speaks TLS from the first byte \\(implicit TLS\\), but this connection started in plain text \\(secure: false\\)`,
      ),
    );
    expect(err.hint).toBe(hintFor('TLS_FAILED:implicit-tls-server'));
    expect(err.hint).toMatch(/secure: true with port 465/);
    // One attempt and one probe: three greeting time-outs would be three attempts.
    expect(server.connections).toBe(2);
  }, 20_000);

  it('verify() says the same, within the greeting time-out set in smtp.greetingTimeoutMs', async () => {
    const server = await implicitTlsPort();
    servers.push(server);
    const { err, ms } = await failure(relay(server.port, false, { smtp: { greetingTimeoutMs: 500 } }), 'verify');
    expect(ms).toBeLessThan(3_000);
    expect(err).toMatchObject({ code: 'TLS_FAILED', retryable: false });
    expect(err.hint).toMatch(/secure: true with port 465/);
  });

  it('in Japanese too (locale: ja)', async () => {
    const server = await implicitTlsPort();
    servers.push(server);
    const { err } = await failure(relay(server.port, false, { smtp: { greetingTimeoutMs: 300 }, locale: 'ja' }));
    expect(err.hint).toBe(hintFor('TLS_FAILED:implicit-tls-server', 'ja'));
    expect(err.hint).toContain('secure: true');
  });
});

describe('issue 19: a server that accepts and never speaks keeps the connection failure and its hint', () => {
  it('CONNECTION_FAILED, retryable, with the firewall hint and the reason in the message', async () => {
    const server = await silentPort();
    servers.push(server);
    const { err } = await failure(relay(server.port, false, { smtp: { greetingTimeoutMs: 300 }, retry: { attempts: 2, minDelayMs: 1, maxDelayMs: 1 } }));
    expect(err).toMatchObject({ code: 'CONNECTION_FAILED', retryable: true, phase: 'connect' });
    expect(err.hint).toBe(hintFor('CONNECTION_FAILED'));
    expect(err.hint).toMatch(/465 and 587/);
    expect(err.message).toMatch(/: Greeting never received$/);
    // Retried as transient (2 attempts); the port was probed for TLS once, not on every attempt.
    expect(server.connections).toBe(3);
  });
});

describe('issue 19: secure: true against a port that starts in plain text (STARTTLS)', () => {
  it.each([
    ['smtp-server', async () => startRecordingServer({ secure: false })],
    ['a raw STARTTLS server', async () => startScriptedServer({ tls: 'starttls' })],
  ] as const)('%s: fails at once, not retried, and says to use secure: false with port 587', async (_name, start) => {
    const server = await start();
    const started = Date.now();
    const { err } = await failure(relay(server.port, true, { smtp: { tls: { ca: [server.cert] } } }));
    const connections = server.connections;
    await server.close();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(err).toMatchObject({ code: 'TLS_FAILED', retryable: false, phase: 'tls' });
    expect(err.message).toMatch(
      new RegExp(
        `127\\.0\\.0\\.1:${server.port} greets in plain text \\(it upgrades with STARTTLS\\), but this connection expected TLS from the first byte \\(secure: true\\)`,
      ),
    );
    expect(err.hint).toBe(hintFor('TLS_FAILED:plaintext-server'));
    expect(err.hint).toMatch(/secure: false with port 587/);
    // The cause keeps what the TLS layer said.
    expect(String((err.cause as Error).message)).toMatch(/wrong version number|packet length/);
    expect(connections).toBeLessThanOrEqual(2);
  });
});

describe('issue 19: the message carries the underlying reason, and the CLI prints it', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tls-mode-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function verify(config: Record<string, unknown>) {
    await writeFile(join(dir, 'config.json'), JSON.stringify(config));
    let stdout = '';
    let stderr = '';
    const code = await main(['verify', '--config', 'config.json'], {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      env: {},
      cwd: dir,
    });
    return { code, stdout, stderr };
  }

  it('a refused connection: "connect ECONNREFUSED 127.0.0.1:<port>", not nodemailer\'s ESOCKET', async () => {
    const closed = await silentPort();
    const port = closed.port;
    await closed.close();
    const { err } = await failure(relay(port, true, { retry: false }));
    expect(err.message).toBe(
      `Could not connect to the mail server, or the connection was lost before the message was complete: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
    const cli = await verify({ strategy: 'relay', host: '127.0.0.1', port, secure: true, retry: false });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain(`connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(cli.stderr).not.toContain('ESOCKET');
  });

  it('an untrusted certificate: "self-signed certificate", and a hint that names smtp.tls.ca and never turning verification off', async () => {
    const server = await startRecordingServer({ secure: true });
    const { err } = await failure(relay(server.port, true, { retry: false }));
    expect(err).toMatchObject({ code: 'TLS_FAILED', retryable: false, phase: 'tls' });
    // Node 24 and later append their own advice about --use-system-ca to this reason; it is true, so it stays.
    expect(err.message).toMatch(/^The TLS connection failed: self-signed certificate(; [^()]*)? \(DEPTH_ZERO_SELF_SIGNED_CERT\)$/);
    const cli = await verify({ strategy: 'relay', host: '127.0.0.1', port: server.port, secure: true });
    await server.close();
    expect(cli.stderr).toContain('self-signed certificate');
    for (const hint of [err.hint!, cli.stderr, hintFor('TLS_FAILED:certificate', 'ja')]) {
      expect(hint).toContain('smtp.tls.ca');
      expect(hint).not.toMatch(/rejectUnauthorized|turn (it |verification |checks )?off|disable/i);
    }
  });

  it('a certificate for another name says which', async () => {
    const { key, cert } = await testCert({ host: 'other.example' });
    const server = await startRecordingServer({ secure: true, extra: { key, cert } });
    const { err } = await failure(relay(server.port, true, { retry: false, smtp: { tls: { ca: [cert] } } }));
    await server.close();
    expect(err.message).toMatch(/^The TLS connection failed: Hostname\/IP does not match certificate's altnames: IP: 127\.0\.0\.1 is not in the cert's list/);
    expect(err.hint).toBe(hintFor('TLS_FAILED:certificate'));
  });
});

describe('issue 19: an internal relay without TLS', () => {
  it.each([['454 4.7.0 TLS not available due to temporary reason'], ['502 5.5.1 Unrecognized command']])(
    'STARTTLS answered "%s" is not retried, and the hint names smtp.requireTLS: false',
    async (reply) => {
      const server = await startScriptedServer({ tls: 'starttls', script: { replies: { starttls: reply } } });
      const { err } = await failure({ strategy: 'relay', host: '127.0.0.1', port: server.port, secure: false, retry: RETRYING });
      const connections = server.connections;
      await server.close();
      expect(err).toMatchObject({ code: 'TLS_FAILED', retryable: false, phase: 'tls', responseCode: Number(reply.slice(0, 3)) });
      expect(err.hint).toContain('smtp.requireTLS: false');
      expect(hintFor('TLS_FAILED:starttls-unavailable', 'ja')).toContain('smtp.requireTLS: false');
      expect(connections).toBe(1);
      expect(server.received).toHaveLength(0);
    },
  );

  it('smtp.requireTLS: false then sends in clear to that trusted relay', async () => {
    const server = await startScriptedServer({ tls: 'starttls', script: { replies: { starttls: '454 4.7.0 TLS not available due to temporary reason' } } });
    const mailer = createGmailTransport({ strategy: 'relay', host: '127.0.0.1', port: server.port, secure: false, smtp: { requireTLS: false } });
    await mailer.sendMail(MESSAGE);
    mailer.close();
    await server.close();
    expect(server.accepted).toBe(1);
  });
});
