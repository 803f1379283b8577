/**
 * The local stand-ins every benchmark talks to, in a process of their own so that the
 * benchmark process's CPU time (process.cpuUsage) counts the client only:
 * - an SMTP server with implicit TLS (smtp-server, certificate made at start), which accepts
 *   any password and, over XOAUTH2, only access tokens the token stand-in issued;
 * - Google's OAuth token endpoint (POST /token), counting requests;
 * - the Gmail API's users.messages.send (POST .../messages/send), counting messages.
 * Everything listens on 127.0.0.1 only. The parent drives it over IPC (see stand-ins.ts).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { makeCert } from './cert.js';

export interface StandInStats {
  smtpConnections: number;
  smtpMessages: number;
  smtpAuthPlain: number;
  smtpAuthXoauth2: number;
  smtpAuthRejected: number;
  tokenRequests: number;
  tokenRequestsByGrant: Record<string, number>;
  /** By OAuth client id: each benchmark gives each credential a client id of its own. */
  tokenRequestsByClient: Record<string, number>;
  gmailApiMessages: number;
  gmailApiRejected: number;
}

export type StandInCommand =
  | { id: number; cmd: 'stats' }
  | { id: number; cmd: 'reset' }
  | { id: number; cmd: 'configure'; tokenExpiresInS?: number; tokenDelayMs?: number }
  | { id: number; cmd: 'close' };

export interface StandInReady {
  ready: true;
  smtpPort: number;
  httpPort: number;
  cert: string;
}

const stats: StandInStats = freshStats();
const issued = new Set<string>();
const settings = { tokenExpiresInS: 3600, tokenDelayMs: 0 };
let tokenSerial = 0;

function freshStats(): StandInStats {
  return {
    smtpConnections: 0,
    smtpMessages: 0,
    smtpAuthPlain: 0,
    smtpAuthXoauth2: 0,
    smtpAuthRejected: 0,
    tokenRequests: 0,
    tokenRequestsByGrant: {},
    tokenRequestsByClient: {},
    gmailApiMessages: 0,
    gmailApiRejected: 0,
  };
}

const { key, cert } = await makeCert();

const smtp = new SMTPServer({
  secure: true,
  key,
  cert,
  logger: false,
  disableReverseLookup: true,
  authMethods: ['PLAIN', 'LOGIN', 'XOAUTH2'],
  size: 50 * 1024 * 1024,
  onConnect(_session, callback) {
    stats.smtpConnections++;
    callback();
  },
  onAuth(auth, _session, callback) {
    if (auth.method === 'XOAUTH2') {
      if (auth.accessToken && issued.has(auth.accessToken)) {
        stats.smtpAuthXoauth2++;
        callback(null, { user: auth.username });
        return;
      }
      stats.smtpAuthRejected++;
      // Gmail's answer to a stale token: 334 + base64 JSON, then 535 after the empty line.
      callback(null, { data: { status: '401', schemes: 'bearer', scope: 'https://mail.google.com/' } });
      return;
    }
    stats.smtpAuthPlain++;
    callback(null, { user: auth.username });
  },
  onData(stream, _session, callback) {
    stream.on('end', () => {
      stats.smtpMessages++;
      callback(null, 'OK queued');
    });
    stream.resume();
  },
});
smtp.on('error', () => {});
await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', () => resolve()));

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function handleToken(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req);
  const params = new URLSearchParams(body.trim().startsWith('{') ? (JSON.parse(body) as Record<string, string>) : body);
  const grant = params.get('grant_type') ?? 'unknown';
  stats.tokenRequests++;
  stats.tokenRequestsByGrant[grant] = (stats.tokenRequestsByGrant[grant] ?? 0) + 1;
  const client = params.get('client_id') ?? 'unknown';
  stats.tokenRequestsByClient[client] = (stats.tokenRequestsByClient[client] ?? 0) + 1;
  if (settings.tokenDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, settings.tokenDelayMs));
  const token = `bench-access-${process.pid}-${++tokenSerial}`;
  issued.add(token);
  json(res, 200, { access_token: token, expires_in: settings.tokenExpiresInS, token_type: 'Bearer', scope: 'https://mail.google.com/' });
}

async function handleGmailSend(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req);
  const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
  if (!bearer || !issued.has(bearer)) {
    stats.gmailApiRejected++;
    json(res, 401, { error: { code: 401, message: 'Request had invalid authentication credentials.', status: 'UNAUTHENTICATED' } });
    return;
  }
  if (body.length === 0) {
    json(res, 400, {
      error: { code: 400, message: "'raw' RFC822 payload message string or uploading message via /upload/* URL required", status: 'INVALID_ARGUMENT' },
    });
    return;
  }
  stats.gmailApiMessages++;
  const id = (0x18c0000000000000n + BigInt(stats.gmailApiMessages)).toString(16);
  json(res, 200, { id, threadId: id, labelIds: ['SENT'] });
}

const http = createServer((req, res) => {
  const path = (req.url ?? '').split('?')[0] ?? '';
  const route =
    req.method === 'POST' && path.endsWith('/token') ? handleToken : req.method === 'POST' && path.endsWith('/messages/send') ? handleGmailSend : undefined;
  if (!route) {
    json(res, 404, { error: 'not_found', path });
    return;
  }
  route(req, res).catch(() => json(res, 500, { error: 'internal' }));
});
http.keepAliveTimeout = 5_000;
await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()));

function reply(id: number, payload: unknown): void {
  process.send?.({ id, payload });
}

process.on('message', (raw) => {
  const msg = raw as StandInCommand;
  switch (msg.cmd) {
    case 'stats':
      reply(msg.id, structuredClone(stats));
      break;
    case 'reset':
      Object.assign(stats, freshStats());
      reply(msg.id, true);
      break;
    case 'configure':
      if (msg.tokenExpiresInS !== undefined) settings.tokenExpiresInS = msg.tokenExpiresInS;
      if (msg.tokenDelayMs !== undefined) settings.tokenDelayMs = msg.tokenDelayMs;
      reply(msg.id, true);
      break;
    case 'close':
      // Exit at once: smtp-server's close waits for clients, and the benchmark is done with it.
      process.send?.({ id: msg.id, payload: true }, () => process.exit(0));
      break;
  }
});
// The parent's death must not leave this process behind.
process.on('disconnect', () => process.exit(0));

const ready: StandInReady = {
  ready: true,
  smtpPort: (smtp.server.address() as AddressInfo).port,
  httpPort: (http.address() as AddressInfo).port,
  cert,
};
process.send?.(ready);
