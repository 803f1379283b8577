import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { mkdirSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SendRecord } from '../../../src/index.js';
import type { BridgeOptions } from '../../../src/bridge/index.js';
import { fastHash, relayTo, startBridge, type RunningBridge } from '../../helpers/bridge.js';
import { startScriptedUpstream, type ScriptedUpstream, type ScriptedUpstreamOptions } from '../../helpers/scripted-upstream.js';

/** Fake secrets: none may appear in any page, API answer or log line. */
export const ADMIN_PASSWORD = 'FAKE-ADMIN-PW-c0ns01e';
export const PRINTER_PASSWORD = 'FAKE-PRINTER-PW-9d4e';

export interface ConsoleBridge extends RunningBridge {
  upstream: ScriptedUpstream;
  /** The console's base URL, e.g. `http://127.0.0.1:41234`. */
  base: string;
  sendLogDir: string;
  adminHash: string;
  printerHash: string;
  stop(): Promise<void>;
}

/**
 * A bridge with the admin console on an ephemeral loopback port (HTTP), a printer account, the
 * loopback network allowed, a send log with subjects, and a scripted upstream behind it.
 */
export async function startConsoleBridge(opts: {
  baseDir: string;
  upstream?: ScriptedUpstreamOptions;
  bridge?: Partial<Omit<BridgeOptions, 'logger'>>;
  admin?: Partial<NonNullable<BridgeOptions['admin']>>;
}): Promise<ConsoleBridge> {
  const upstream = await startScriptedUpstream(opts.upstream);
  const adminHash = await fastHash(ADMIN_PASSWORD);
  const printerHash = await fastHash(PRINTER_PASSWORD);
  const running = await startBridge({
    accounts: [{ user: 'scanner-2f', passwordHash: printerHash, allowFrom: ['scans@example.com'] }],
    allowNetworks: ['127.0.0.1'],
    upstream: relayTo(upstream),
    baseDir: opts.baseDir,
    sendLog: { dir: 'send-log', subjects: true },
    limits: { authFailuresBeforeLockout: 3 },
    admin: { listen: { host: '127.0.0.1', port: 0 }, users: [{ user: 'admin', passwordHash: adminHash }], ...opts.admin },
    ...opts.bridge,
  });
  const admin = running.bridge.admin!;
  return {
    ...running,
    upstream,
    base: admin.url.replace(/\/$/, ''),
    sendLogDir: join(opts.baseDir, 'send-log'),
    adminHash,
    printerHash,
    stop: async () => {
      await running.close();
      await upstream.close();
    },
  };
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One HTTP(S) request with full control of its headers (Host, Origin, Cookie). */
export function call(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string; ca?: string } = {}): Promise<Answer> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      {
        method: opts.method ?? 'GET',
        headers: { ...(opts.body !== undefined ? { 'content-length': String(Buffer.byteLength(opts.body)) } : {}), ...opts.headers },
        ...(opts.ca ? { ca: [opts.ca], servername: 'localhost' } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** The cookies a response sets, by name (value only). */
export function setCookies(answer: Answer): Map<string, { value: string; raw: string }> {
  const out = new Map<string, { value: string; raw: string }>();
  for (const raw of answer.headers['set-cookie'] ?? []) {
    const [pair = ''] = raw.split(';');
    const eq = pair.indexOf('=');
    out.set(pair.slice(0, eq), { value: pair.slice(eq + 1), raw });
  }
  return out;
}

/** Logs in through the form as a browser would; returns the session cookie header and the page's CSRF token. */
export async function login(base: string, user = 'admin', password = ADMIN_PASSWORD, ca?: string): Promise<{ cookie: string; csrf: string }> {
  const form = await call(`${base}/login`, ca ? { ca } : {});
  const loginCookie = [...setCookies(form)].find(([name]) => name.endsWith('gt_login'))!;
  const token = /name="_csrf" value="([^"]+)"/.exec(form.body)![1]!;
  const answer = await call(`${base}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `${loginCookie[0]}=${loginCookie[1].value}`, origin: new URL(base).origin },
    body: new URLSearchParams({ _csrf: token, user, password }).toString(),
    ...(ca ? { ca } : {}),
  });
  if (answer.status !== 303) throw new Error(`login failed: ${answer.status}`);
  const session = [...setCookies(answer)].find(([name]) => name.endsWith('gt_session'))!;
  const cookie = `${session[0]}=${session[1].value}`;
  const status = await call(`${base}/devices`, { headers: { cookie }, ...(ca ? { ca } : {}) });
  const csrf = /name="_csrf" value="([^"]+)"/.exec(status.body)![1]!;
  return { cookie, csrf };
}

/** Appends records to today's send-log file, as another writer would (for hostile values). */
export function writeRecords(dir: string, records: SendRecord[]): void {
  mkdirSync(dir, { recursive: true });
  const byDay = new Map<string, string>();
  for (const r of records) byDay.set(r.time.slice(0, 10), (byDay.get(r.time.slice(0, 10)) ?? '') + `${JSON.stringify(r)}\n`);
  for (const [day, text] of byDay) appendFileSync(join(dir, `send-${day}.jsonl`), text);
}

/** A send-log record with defaults that read naturally. */
export function record(over: Partial<SendRecord> & { time: string }): SendRecord {
  return {
    id: `rec-${Math.random().toString(36).slice(2, 10)}`,
    strategy: 'relay',
    from: 'scans@example.com',
    to: ['sato@example.co.jp'],
    status: 'delivered',
    response: '250 2.0.0 OK queued',
    latencyMs: 420,
    attempts: 1,
    account: 'scanner-2f',
    client: '192.168.10.31',
    subject: 'スキャン文書',
    ...over,
  };
}
