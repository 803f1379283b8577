import { isIP } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SafeHtml } from './html.js';

/**
 * Headers on every answer. The CSP allows only the console's own script and style files (no
 * inline script, no other origin), and no framing; pages never go to caches, nor their
 * addresses to other sites. `same-origin`, not `no-referrer`: under the latter Chromium sends
 * `Origin: null` with the console's own forms, and the origin check needs the real one.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
});

/** Largest request body the console reads (its forms and JSON are a few hundred bytes). */
const MAX_BODY_BYTES = 64 * 1024;

export class BodyTooLarge extends Error {}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLarge('request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function sendHtml(res: ServerResponse, status: number, body: SafeHtml, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(status, { ...withCookies(res, headers), 'content-type': 'text/html; charset=utf-8' });
  res.end(body.text);
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8' });
  res.end(`${JSON.stringify(value, null, 2)}\n`);
}

export function sendText(res: ServerResponse, status: number, text: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': type });
  res.end(text);
}

export function redirect(res: ServerResponse, location: string, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(303, { ...withCookies(res, headers), location });
  res.end();
}

/** `headers` with their Set-Cookie added to the ones already set on `res` (not replacing them). */
function withCookies(res: ServerResponse, headers: Record<string, string | string[]>): Record<string, string | string[]> {
  const added = headers['set-cookie'];
  if (added === undefined) return headers;
  const existing = res.getHeader('set-cookie');
  const before = existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
  return { ...headers, 'set-cookie': [...before, ...(Array.isArray(added) ? added : [added])] };
}

/** The host name of a Host header (`[::1]:8025` → `::1`), lower-cased. */
export function hostnameOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^(?:\[([0-9a-f:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/i.exec(header.trim());
  if (!match) return undefined;
  return (match[1] ?? match[2]!).toLowerCase();
}

/**
 * Whether a Host header names this bridge: an address, `localhost`, or one of its names.
 * Anything else is refused: a web page elsewhere could otherwise point a name of its own at
 * 127.0.0.1 (DNS rebinding) and read the console as a page of its own origin.
 */
export function isOwnHost(header: string | undefined, names: ReadonlySet<string>): boolean {
  const name = hostnameOf(header);
  if (name === undefined) return false;
  return isIP(name) !== 0 || name === 'localhost' || names.has(name);
}

/**
 * Whether a state-changing request comes from the console's own pages, by the browser's word:
 * `Origin` (sent with every POST by current browsers) must be this origin, and
 * `Sec-Fetch-Site` must not say another site. The CSRF token is checked besides.
 */
export function isSameOrigin(req: IncomingMessage, secure: boolean): boolean {
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `${secure ? 'https' : 'http'}://${req.headers.host ?? ''}`) return false;
  const site = req.headers['sec-fetch-site'];
  return site === undefined || site === 'same-origin' || site === 'none';
}
