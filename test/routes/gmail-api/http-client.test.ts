import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGmailTransport, isGmailTransportError, type GmailApiConfig, type GmailTransporter, type TransportEvents } from '../../../src/index.js';
import { gmailFetch } from '../../../src/routes/gmail-api/http-client.js';
import { Secret } from '../../../src/core/secret.js';
import { expectNoSecret } from '../../contract/strategy.js';

// No msw in this file: a real HTTP server on 127.0.0.1 plays both Google's token endpoint and
// the Gmail API, so the test controls the socket (msw cannot drop a connection after reading
// the body). `endpoints` accepts plain http to loopback for exactly this.

const CLIENT_SECRET = 'FAKE-CLIENT-SECRET-2b7d';
const REFRESH_TOKEN = 'FAKE-REFRESH-e41c';
const ACCESS_TOKEN = 'FAKE-ACCESS-88aa';
const SECRETS = [CLIENT_SECRET, REFRESH_TOKEN, ACCESS_TOKEN];

type Behaviour = 'accept' | 'drop-after-body' | 'drop-before-body';

let server: Server;
let base: string;
let behaviour: Behaviour = 'accept';
const received: { path: string; bytes: number; complete: boolean }[] = [];

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', base).pathname;
  if (behaviour === 'drop-before-body' && path !== '/token') {
    received.push({ path, bytes: 0, complete: false });
    req.socket.destroy();
    return;
  }
  const body = await readAll(req);
  if (path === '/token') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ access_token: ACCESS_TOKEN, expires_in: 3599, token_type: 'Bearer' }));
    return;
  }
  received.push({ path, bytes: body.length, complete: body.length === Number(req.headers['content-length']) });
  if (behaviour === 'drop-after-body') {
    // Gmail may have taken the message; the answer never comes back.
    req.socket.destroy();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ id: 'local-1', threadId: 'local-t1' }));
}

beforeAll(async () => {
  server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const open: GmailTransporter[] = [];
afterEach(() => {
  behaviour = 'accept';
  received.length = 0;
  for (const m of open.splice(0)) m.close();
});

let seq = 0;
function transport(extra: Partial<GmailApiConfig> = {}, apiBase = base): GmailTransporter {
  const n = ++seq;
  const mailer = createGmailTransport({
    strategy: 'gmail-api',
    user: `local${n}@example.com`,
    clientId: `local-${n}.apps.googleusercontent.com`,
    clientSecret: CLIENT_SECRET,
    refreshToken: REFRESH_TOKEN,
    endpoints: { token: `${base}/token`, gmailApi: apiBase },
    ...extra,
  } as GmailApiConfig);
  open.push(mailer);
  return mailer;
}

async function failure(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isGmailTransportError(err)).toBe(true);
  expectNoSecret(err, SECRETS);
  return err as Record<string, unknown>;
}

describe('gmail-api over a local stand-in: the connection', () => {
  it('delivers through endpoints.gmailApi on plain http to loopback', async () => {
    const info = await transport().sendMail({ from: 'me@example.com', to: 'you@example.com', subject: 'local', text: 'x' });
    expect(info).toMatchObject({ id: 'local-1', threadId: 'local-t1', accepted: ['you@example.com'] });
    expect(received).toHaveLength(1);
    expect(received[0]!.path).toMatch(/^\/gmail\/v1\/users\/local\d+%40example\.com\/messages\/send$/);
  });

  it.each([
    ['a small message (one chunk)', 10],
    ['a larger one (several chunks)', 200_000],
  ])('a connection lost after the whole body was sent is DELIVERY_UNCERTAIN and is not retried: %s', async (_label, size) => {
    behaviour = 'drop-after-body';
    const mailer = transport({ retry: { attempts: 5, minDelayMs: 0, maxDelayMs: 0 } });
    const retries: TransportEvents['retry'][] = [];
    mailer.on('retry', (e) => retries.push(e));
    const err = await failure(
      mailer.sendMail({ from: 'me@example.com', to: 'you@example.com', text: 'x', attachments: [{ filename: 'a.bin', content: Buffer.alloc(size, 3) }] }),
    );
    expect(err).toMatchObject({ code: 'DELIVERY_UNCERTAIN', retryable: false, phase: 'api', strategy: 'gmail-api' });
    expect(err.messageId).toMatch(/^<.+>$/);
    expect(received).toEqual([expect.objectContaining({ complete: true })]);
    expect(retries).toHaveLength(0);
  });

  it('a connection dropped while the body is still going out is CONNECTION_FAILED and retried', async () => {
    behaviour = 'drop-before-body';
    const mailer = transport({ retry: { attempts: 2, minDelayMs: 0, maxDelayMs: 0 } });
    const retries: TransportEvents['retry'][] = [];
    mailer.on('retry', (e) => retries.push(e));
    // Far more than the loopback socket buffers hold, so the drop lands mid-body.
    const err = await failure(
      mailer.sendMail({
        from: 'me@example.com',
        to: 'you@example.com',
        text: 'x',
        attachments: [{ filename: 'big.bin', content: Buffer.alloc(20 * 1024 * 1024, 1) }],
      }),
    );
    expect(err).toMatchObject({ code: 'CONNECTION_FAILED', retryable: true, phase: 'api' });
    expect(retries).toEqual([expect.objectContaining({ code: 'CONNECTION_FAILED', attempt: 1 })]);
    expect(received).toHaveLength(2);
  });

  it('a connection that fails before the body went out is CONNECTION_FAILED, retryable, and retried', async () => {
    // A port nothing listens on: the request never leaves.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const mailer = transport({ retry: { attempts: 2, minDelayMs: 0, maxDelayMs: 0 } }, `http://127.0.0.1:${deadPort}`);
    const retries: TransportEvents['retry'][] = [];
    mailer.on('retry', (e) => retries.push(e));
    const err = await failure(mailer.sendMail({ from: 'me@example.com', to: 'you@example.com', text: 'x' }));
    expect(err).toMatchObject({ code: 'CONNECTION_FAILED', retryable: true, phase: 'connect' });
    expect(String(err.message)).toContain('ECONNREFUSED');
    expect(retries).toEqual([expect.objectContaining({ code: 'CONNECTION_FAILED', attempt: 1 })]);
  });
});

describe('gmailFetch', () => {
  it('streams the body with its Content-Length and reports how far it got', async () => {
    const bytes = Buffer.alloc(300_000, 5);
    const res = await gmailFetch(
      { method: 'POST', url: `${base}/gmail/v1/users/x/messages/send`, token: new Secret(ACCESS_TOKEN), body: { bytes, contentType: 'message/rfc822' } },
      { strategy: 'gmail-api', locale: 'en' },
    );
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ id: 'local-1', threadId: 'local-t1' });
    expect(received).toEqual([{ path: '/gmail/v1/users/x/messages/send', bytes: 300_000, complete: true }]);
  });
});
