import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** How the endpoint answers one request. */
export type TokenAnswer =
  /** A token lasting `expiresInS` (default: the endpoint's `expiresInS`). */
  | { kind: 'token'; expiresInS?: number }
  /** Holds the request open, unanswered, until `releaseHeld()` or `close()`. */
  | { kind: 'hang' }
  /** `headers` are added to the answer's own. */
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
  /** 200 with a body that is not JSON, under a JSON content type. */
  | { kind: 'not-json' }
  /** 200 JSON without `access_token`. */
  | { kind: 'no-access-token' }
  /** 200 with an HTML page, as a captive portal or a misrouted proxy answers. */
  | { kind: 'html' };

export interface BreakableTokenEndpoint {
  /** For `endpoints.token`. */
  url: string;
  /** How the n-th request (1-based) is answered. @default a token */
  answer: (n: number) => TokenAnswer;
  /** Lifetime of the tokens issued, in seconds. @default 3600 */
  expiresInS: number;
  /** Requests received. */
  readonly requests: number;
  /** Every token issued, with when it expires (ms since epoch, real clock). */
  readonly issued: Map<string, number>;
  /** Whether `token` was issued here and is not expired at `now`. */
  isValid(token: string | undefined, now?: number): boolean;
  /** Stops listening (new connections are refused) and drops open ones. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  /** Resolves when the next request arrives (before it is answered). */
  nextRequest(): Promise<number>;
  /** Answers every held request with a token, late. */
  releaseHeld(): void;
  close(): Promise<void>;
}

/**
 * A real token endpoint on 127.0.0.1 (plain http to loopback, as `endpoints.token` allows)
 * that can be broken in the ways a real one breaks: down (connection refused), hanging past the
 * provider's timeout, flapping, or answering 200 with garbage. Issues unique fake tokens.
 */
export async function startTokenEndpoint(prefix = 'ya29.FAKE-FAULT'): Promise<BreakableTokenEndpoint> {
  const issued = new Map<string, number>();
  const held: ServerResponse[] = [];
  const sockets = new Set<Socket>();
  let waiters: ((n: number) => void)[] = [];
  let requests = 0;
  let counter = 0;

  const issue = (res: ServerResponse, expiresInS: number): void => {
    const token = `${prefix}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;
    issued.set(token, Date.now() + expiresInS * 1000);
    send(
      res,
      200,
      'application/json',
      JSON.stringify({ access_token: token, expires_in: expiresInS, token_type: 'Bearer', scope: 'https://mail.google.com/' }),
    );
  };

  const endpoint: BreakableTokenEndpoint = {
    url: '',
    answer: () => ({ kind: 'token' }),
    expiresInS: 3600,
    get requests() {
      return requests;
    },
    issued,
    isValid(token, now = Date.now()) {
      const expiresAt = token === undefined ? undefined : issued.get(token);
      return expiresAt !== undefined && expiresAt > now;
    },
    down: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
    up: () => listen(port),
    nextRequest: () => new Promise<number>((resolve) => waiters.push(resolve)),
    releaseHeld() {
      for (const res of held.splice(0)) if (!res.writableEnded && !res.destroyed) issue(res, endpoint.expiresInS);
    },
    close: async () => {
      held.length = 0;
      if (server.listening) await endpoint.down();
      for (const socket of sockets) socket.destroy();
    },
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.once('end', () => {
      const n = ++requests;
      const ready = waiters;
      waiters = [];
      for (const resolve of ready) resolve(n);
      const answer = endpoint.answer(n);
      switch (answer.kind) {
        case 'token':
          return issue(res, answer.expiresInS ?? endpoint.expiresInS);
        case 'hang':
          held.push(res);
          return;
        case 'status':
          return send(res, answer.status, 'application/json', JSON.stringify(answer.body ?? {}), answer.headers);
        case 'not-json':
          return send(res, 200, 'application/json', '{"access_token": "ya29.FAKE-TRUNCATED');
        case 'no-access-token':
          return send(res, 200, 'application/json', JSON.stringify({ token_type: 'Bearer', expires_in: 3599 }));
        case 'html':
          return send(res, 200, 'text/html; charset=utf-8', '<!doctype html><html><body><h1>Sign in to the Wi-Fi</h1></body></html>');
      }
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  const listen = (at: number): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(at, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  endpoint.url = `http://127.0.0.1:${port}/token`;
  return endpoint;
}

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  // No keep-alive: this server's side of an idle connection would otherwise stay open (and count
  // as an active handle of the test process) for its keep-alive timeout after every request.
  res.writeHead(status, { ...headers, 'content-type': type, 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body);
}
