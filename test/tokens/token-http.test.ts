/**
 * How token requests reach the network. Without a proxy they go through the runtime's fetch:
 * gaxios's default, node-fetch, runs Node's `stream.pipeline` and http client, code nodemailer
 * runs for every message, and sharing it measurably slowed every send (docs/BENCHMARKS.md,
 * "Findings"). With HTTPS_PROXY / HTTP_PROXY set they go through that proxy, as
 * google-auth-library does by default. Real sockets only: a token endpoint and a CONNECT proxy
 * on 127.0.0.1, no msw (it would answer before any proxy is involved).
 */
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createGmailTransport, type GmailTransportConfig } from '../../src/index.js';
import { startRecordingServer, type RecordingServer } from '../helpers/smtp-server.js';
import { startTokenEndpoint, type BreakableTokenEndpoint } from '../helpers/fault-token-endpoint.js';
import { makeServiceAccountKey } from '../helpers/google-token.js';
import { localSmtp, oauth2Credentials, uniqueClientId } from '../helpers/oauth-fixtures.js';

const USER = 'me@gmail.com';
const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy'] as const;

interface ConnectProxy {
  url: string;
  /** The `host:port` of every CONNECT request received. */
  tunnels: string[];
  close(): Promise<void>;
}

/** A forward proxy that only tunnels (CONNECT), as corporate proxies in front of Google do. */
async function startConnectProxy(): Promise<ConnectProxy> {
  const tunnels: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req, client: Socket, head: Buffer) => {
    tunnels.push(req.url ?? '');
    const [host, port] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host!, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client).pipe(upstream);
    });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined).on('close', () => sockets.delete(s));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    tunnels,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

let smtp: RecordingServer;
let endpoint: BreakableTokenEndpoint;
let proxy: ConnectProxy;
const savedEnv = Object.fromEntries(PROXY_VARIABLES.map((name) => [name, process.env[name]]));

beforeAll(async () => {
  [smtp, endpoint, proxy] = await Promise.all([startRecordingServer({ secure: true }), startTokenEndpoint(), startConnectProxy()]);
});
afterEach(() => {
  vi.restoreAllMocks();
  for (const name of PROXY_VARIABLES) {
    if (savedEnv[name] === undefined) delete process.env[name];
    else process.env[name] = savedEnv[name];
  }
});
afterAll(async () => {
  await Promise.all([smtp.close(), endpoint.close(), proxy.close()]);
});

const saKey = makeServiceAccountKey();

function config(kind: 'oauth2' | 'service-account'): GmailTransportConfig {
  if (kind === 'oauth2') return { ...oauth2Credentials(USER, endpoint.url), smtp: localSmtp(smtp) };
  const serviceAccount = { ...saKey.json, client_email: `${uniqueClientId()}@x.iam.gserviceaccount.com` };
  return { strategy: 'service-account', user: 'staff@example.com', serviceAccount, endpoints: { token: endpoint.url }, smtp: localSmtp(smtp) };
}

async function sendOne(kind: 'oauth2' | 'service-account' = 'oauth2'): Promise<void> {
  const mailer = createGmailTransport(config(kind));
  try {
    await mailer.sendMail({ from: USER, to: 'you@example.com', subject: 'token path', text: 'x' });
  } finally {
    mailer.close();
  }
}

describe('token requests', () => {
  for (const kind of ['oauth2', 'service-account'] as const) {
    it(`go through the runtime's fetch when no proxy is configured (${kind})`, async () => {
      for (const name of PROXY_VARIABLES) delete process.env[name];
      const fetchSpy = vi.spyOn(globalThis, 'fetch');
      const before = { requests: endpoint.requests, delivered: smtp.messages.length };

      await sendOne(kind);

      const tokenCalls = fetchSpy.mock.calls.filter(([input]) => String(input instanceof Request ? input.url : input) === endpoint.url);
      expect(tokenCalls).toHaveLength(1);
      expect(endpoint.requests - before.requests).toBe(1);
      expect(smtp.messages.length - before.delivered).toBe(1);
      expect(proxy.tunnels).toEqual([]);
    });
  }

  for (const variable of ['HTTPS_PROXY', 'http_proxy'] as const) {
    it(`go through the proxy named by ${variable}`, async () => {
      for (const name of PROXY_VARIABLES) delete process.env[name];
      process.env[variable] = proxy.url;
      const fetchSpy = vi.spyOn(globalThis, 'fetch');
      const tunnelsBefore = proxy.tunnels.length;
      const before = { requests: endpoint.requests, delivered: smtp.messages.length };

      await sendOne();

      const { host } = new URL(endpoint.url);
      expect(proxy.tunnels.slice(tunnelsBefore)).toEqual([host]);
      expect(endpoint.requests - before.requests).toBe(1);
      expect(smtp.messages.length - before.delivered).toBe(1);
      expect(fetchSpy).not.toHaveBeenCalled();
    });
  }

  it('go straight to a host listed in NO_PROXY', async () => {
    for (const name of PROXY_VARIABLES) delete process.env[name];
    process.env.HTTPS_PROXY = proxy.url;
    process.env.NO_PROXY = `example.com,${new URL(endpoint.url).hostname}`;
    const tunnelsBefore = proxy.tunnels.length;
    const before = { requests: endpoint.requests, delivered: smtp.messages.length };

    await sendOne();

    expect(proxy.tunnels.length).toBe(tunnelsBefore);
    expect(endpoint.requests - before.requests).toBe(1);
    expect(smtp.messages.length - before.delivered).toBe(1);
  });
});
