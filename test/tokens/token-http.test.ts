/**
 * How token requests reach the network. Without a proxy they go through the runtime's fetch:
 * gaxios's default, node-fetch, runs Node's `stream.pipeline` and http client, code nodemailer
 * runs for every message, and sharing it measurably slowed every send (docs/BENCHMARKS.md,
 * "Findings"). With HTTPS_PROXY / HTTP_PROXY set they go through that proxy, as
 * google-auth-library does by default. Real sockets only: a token endpoint and a CONNECT proxy
 * on 127.0.0.1, no msw (it would answer before any proxy is involved).
 */
import { createServer, type Server } from 'node:http';
import https from 'node:https';
import { connect, createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createGmailTransport, type GmailTransportConfig, type GmailTransportError } from '../../src/index.js';
import { startRecordingServer, type RecordingServer } from '../helpers/smtp-server.js';
import { startTokenEndpoint, type BreakableTokenEndpoint } from '../helpers/fault-token-endpoint.js';
import { makeServiceAccountKey } from '../helpers/google-token.js';
import { CLIENT_SECRET, localSmtp, oauth2Credentials, REFRESH_TOKEN, uniqueClientId } from '../helpers/oauth-fixtures.js';
import { expectNoSecretIn } from '../helpers/fault-harness.js';
import { testCert } from '../helpers/certs.js';

const USER = 'me@gmail.com';
const PROXY_VARIABLES = [
  'HTTPS_PROXY',
  'https_proxy',
  'HTTP_PROXY',
  'http_proxy',
  'NO_PROXY',
  'no_proxy',
  'GLOBAL_AGENT_HTTP_PROXY',
  'GLOBAL_AGENT_HTTPS_PROXY',
] as const;
const stockHttpsAgent = https.globalAgent;

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
  https.globalAgent = stockHttpsAgent;
  for (const name of PROXY_VARIABLES) {
    if (savedEnv[name] === undefined) delete process.env[name];
    else process.env[name] = savedEnv[name];
  }
});
afterAll(async () => {
  await Promise.all([smtp.close(), endpoint.close(), proxy.close()]);
});

const saKey = makeServiceAccountKey();

function config(kind: 'oauth2' | 'service-account', tokenUrl = endpoint.url): GmailTransportConfig {
  if (kind === 'oauth2') return { ...oauth2Credentials(USER, tokenUrl), smtp: localSmtp(smtp) };
  const serviceAccount = { ...saKey.json, client_email: `${uniqueClientId()}@x.iam.gserviceaccount.com` };
  return { strategy: 'service-account', user: 'staff@example.com', serviceAccount, endpoints: { token: endpoint.url }, smtp: localSmtp(smtp) };
}

async function sendOne(kind: 'oauth2' | 'service-account' = 'oauth2', tokenUrl?: string): Promise<void> {
  const mailer = createGmailTransport(config(kind, tokenUrl));
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

interface HttpsTokenEndpoint {
  url: string;
  cert: string;
  readonly requests: number;
  close(): Promise<void>;
}

/** A token endpoint over https, with a certificate only a CA given to Node's https agent trusts. */
async function startHttpsTokenEndpoint(): Promise<HttpsTokenEndpoint> {
  const { key, cert } = await testCert();
  let requests = 0;
  const server = https.createServer({ key, cert }, (req, res) => {
    req.resume();
    req.once('end', () => {
      requests++;
      const body = JSON.stringify({ access_token: `ya29.FAKE-HTTPS-${requests}`, expires_in: 3599, token_type: 'Bearer' });
      res.writeHead(200, { 'content-type': 'application/json', connection: 'close' }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/token`,
    cert,
    get requests() {
      return requests;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("token requests honour Node's https agent when the application configured it", () => {
  let tls: HttpsTokenEndpoint;
  beforeAll(async () => {
    tls = await startHttpsTokenEndpoint();
  });
  afterAll(() => tls.close());

  it('a private CA set on https.globalAgent is trusted (the runtime fetch is not used)', async () => {
    for (const name of PROXY_VARIABLES) delete process.env[name];
    const agent = new https.Agent({ keepAlive: false });
    (agent.options as https.AgentOptions).ca = tls.cert;
    https.globalAgent = agent;
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    const before = { requests: tls.requests, delivered: smtp.messages.length };

    await sendOne('oauth2', tls.url);

    expect(tls.requests - before.requests).toBe(1);
    expect(smtp.messages.length - before.delivered).toBe(1);
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it('a replaced https.globalAgent (a proxy agent, say) carries the token request', async () => {
    for (const name of PROXY_VARIABLES) delete process.env[name];
    const connections: string[] = [];
    // Built with no options: only being a subclass tells it apart from Node's own agent. It trusts
    // the stand-in's CA the way a proxy agent reaches its proxy: in its own connection code.
    class RecordingAgent extends https.Agent {
      override createConnection(...args: Parameters<https.Agent['createConnection']>): ReturnType<https.Agent['createConnection']> {
        const [options, callback] = args as [{ host?: string; port?: number }, Parameters<https.Agent['createConnection']>[1]];
        connections.push(`${options.host}:${options.port}`);
        return super.createConnection({ ...options, ca: tls.cert }, callback);
      }
    }
    https.globalAgent = new RecordingAgent();
    const before = { requests: tls.requests, delivered: smtp.messages.length };

    await sendOne('oauth2', tls.url);

    const { host } = new URL(tls.url);
    expect(connections).toEqual([host]);
    expect(tls.requests - before.requests).toBe(1);
    expect(smtp.messages.length - before.delivered).toBe(1);
  });

  it('an https.globalAgent patched in place (a method set on the instance) carries the token request', async () => {
    for (const name of PROXY_VARIABLES) delete process.env[name];
    const agent = new https.Agent();
    const stockCreateConnection = agent.createConnection;
    let connections = 0;
    agent.createConnection = function (this: https.Agent, ...args: Parameters<https.Agent['createConnection']>) {
      connections++;
      const [options, callback] = args;
      return stockCreateConnection.call(this, { ...options, ca: tls.cert }, callback);
    };
    https.globalAgent = agent;
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    const before = { requests: tls.requests, delivered: smtp.messages.length };

    await sendOne('oauth2', tls.url);

    expect(connections).toBe(1);
    expect(tls.requests - before.requests).toBe(1);
    expect(smtp.messages.length - before.delivered).toBe(1);
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it("global-agent's proxy variables keep token requests on Node's http client", async () => {
    for (const name of PROXY_VARIABLES) delete process.env[name];
    process.env.GLOBAL_AGENT_HTTP_PROXY = 'http://127.0.0.1:9';
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    const before = { requests: endpoint.requests, delivered: smtp.messages.length };

    await sendOne();

    expect(endpoint.requests - before.requests).toBe(1);
    expect(smtp.messages.length - before.delivered).toBe(1);
    expect(fetchSpy).not.toHaveBeenCalled();
  });
});

describe('failed token answers with headers gaxios redacts (runtime fetch)', () => {
  // gaxios's error redactor overwrites headers named like `authorization` or containing `secret`
  // in a failed answer; a fetched Response's headers are read-only.
  afterEach(() => {
    endpoint.answer = () => ({ kind: 'token' });
  });

  it('invalid_grant is still OAUTH_INVALID_GRANT, final, with no secret in it', async () => {
    for (const name of PROXY_VARIABLES) delete process.env[name];
    endpoint.answer = () => ({
      kind: 'status',
      status: 400,
      body: { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' },
      headers: { 'x-client-secret-hint': 'rotate', authorization: 'Bearer echo' },
    });
    const before = { requests: endpoint.requests, delivered: smtp.messages.length };

    const error = await sendOne().then(
      () => undefined,
      (err: GmailTransportError) => err,
    );

    expect(error).toMatchObject({ code: 'OAUTH_INVALID_GRANT', retryable: false, phase: 'token' });
    expectNoSecretIn(error, [CLIENT_SECRET, REFRESH_TOKEN]);
    expect(endpoint.requests - before.requests).toBe(1);
    expect(smtp.messages.length - before.delivered).toBe(0);
  });

  // Node's http parser accepts these status lines; `new Response()` would refuse both (a status
  // outside 200-599, a reason phrase that is not a ByteString once decoded), so the answer must
  // reach gaxios as fetched, not rebuilt.
  it.each([
    ['a Latin-1 reason phrase', '400 Requ\xeate incorrecte'],
    ['a status of 600 or more', '600 Unknown'],
  ])('an invalid_grant answer with %s is still OAUTH_INVALID_GRANT after one request', async (_what, statusLine) => {
    for (const name of PROXY_VARIABLES) delete process.env[name];
    let requests = 0;
    const body = Buffer.from(JSON.stringify({ error: 'invalid_grant', error_description: 'Token has been expired or revoked.' }));
    const rawEndpoint = createTcpServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () => {
        requests++;
        const head = `HTTP/1.1 ${statusLine}\r\ncontent-type: application/json\r\nx-client-secret-hint: rotate\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n`;
        socket.end(Buffer.concat([Buffer.from(head, 'latin1'), body]));
      });
    });
    await new Promise<void>((resolve) => rawEndpoint.listen(0, '127.0.0.1', resolve));
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    try {
      const error = await sendOne('oauth2', `http://127.0.0.1:${(rawEndpoint.address() as AddressInfo).port}/token`).then(
        () => undefined,
        (err: GmailTransportError) => err,
      );

      expect(error).toMatchObject({ code: 'OAUTH_INVALID_GRANT', retryable: false, phase: 'token' });
      expectNoSecretIn(error, [CLIENT_SECRET, REFRESH_TOKEN]);
      expect(requests).toBe(1);
      expect(fetchSpy).toHaveBeenCalled();
    } finally {
      await new Promise<void>((resolve) => rawEndpoint.close(() => resolve()));
    }
  });

  it('a 503 is still transient: the token request is retried and the message goes out once', async () => {
    for (const name of PROXY_VARIABLES) delete process.env[name];
    const first = endpoint.requests + 1;
    endpoint.answer = (n) =>
      n === first ? { kind: 'status', status: 503, body: { error: 'backend_error' }, headers: { authentication: 'x' } } : { kind: 'token' };
    const before = { requests: endpoint.requests, delivered: smtp.messages.length };

    await sendOne();

    expect(endpoint.requests - before.requests).toBe(2);
    expect(smtp.messages.length - before.delivered).toBe(1);
  });
});
