import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';

/** One message the local Gmail API took (users.messages.send, JSON or media upload). */
export interface GmailApiMessage {
  user: string;
  authorization: string | undefined;
  /** From the headers, as Gmail takes them: the API has no envelope of its own. */
  envelope: { from: string; to: string[] };
  raw: Buffer;
  parsed: ParsedMail;
  /** Plain HTTP: the config allows it only to loopback. */
  secure: false;
}

export interface GmailApiServer {
  port: number;
  /** The value for `endpoints.gmailApi`; `endpoints.token` is `${url}/token`. */
  url: string;
  /** No TLS here. */
  cert: string;
  /** Requests received, every path. */
  readonly connections: number;
  readonly tokenRequests: number;
  messages: GmailApiMessage[];
  /** Resolves once every request sent before it has been counted; counts one request of its own. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
}

/** Every address of a parsed address header (To, Cc, Bcc), flattened. */
function addresses(field: ParsedMail['to']): string[] {
  const list = field === undefined ? [] : Array.isArray(field) ? field : [field];
  return list.flatMap((group) => group.value.map((a) => a.address ?? ''));
}

/**
 * A real HTTP server on 127.0.0.1 speaking the parts of Google's token endpoint and the Gmail
 * API that the gmail-api route uses: the token grant, users.messages.send (JSON and media
 * upload) and users.getProfile. It accepts everything and records what it was sent.
 */
export async function startGmailApiServer(): Promise<GmailApiServer> {
  const messages: GmailApiMessage[] = [];
  const state = { connections: 0, tokenRequests: 0 };
  const server = createServer((req, res) => {
    state.connections++;
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const send = /^\/(upload\/)?gmail\/v1\/users\/([^/]+)\/messages\/send$/.exec(url.pathname);
    const profile = /^\/gmail\/v1\/users\/([^/]+)\/profile$/.exec(url.pathname);
    void (async () => {
      if (req.method === 'POST' && url.pathname === '/token') {
        await body(req);
        state.tokenRequests++;
        json(res, 200, { access_token: `FAKE-LOCAL-ACCESS-${state.tokenRequests}`, expires_in: 3599, token_type: 'Bearer' });
      } else if (req.method === 'POST' && send) {
        const bytes = await body(req);
        const raw = send[1] ? bytes : Buffer.from((JSON.parse(bytes.toString('utf8')) as { raw: string }).raw, 'base64url');
        const parsed = await simpleParser(raw);
        messages.push({
          user: decodeURIComponent(send[2]!),
          authorization: req.headers.authorization,
          envelope: { from: parsed.from?.value[0]?.address ?? '', to: [...addresses(parsed.to), ...addresses(parsed.cc), ...addresses(parsed.bcc)] },
          raw,
          parsed,
          secure: false,
        });
        json(res, 200, { id: `local-${messages.length}`, threadId: `local-${messages.length}`, labelIds: ['SENT'] });
      } else if (req.method === 'GET' && profile) {
        json(res, 200, { emailAddress: decodeURIComponent(profile[1]!), messagesTotal: messages.length, threadsTotal: messages.length, historyId: '1' });
      } else if (req.method === 'GET' && url.pathname === '/flush') {
        res.writeHead(204).end();
      } else {
        json(res, 404, { error: { code: 404, message: 'Not Found', status: 'NOT_FOUND' } });
      }
    })().catch((err: unknown) => json(res, 500, { error: { code: 500, message: String(err) } }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    cert: '',
    get connections() {
      return state.connections;
    },
    get tokenRequests() {
      return state.tokenRequests;
    },
    messages,
    async flush() {
      await fetch(`http://127.0.0.1:${port}/flush`).then((r) => r.arrayBuffer());
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
