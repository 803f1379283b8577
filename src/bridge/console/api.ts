import { parseBasicAuth, reportFailure, type ConsoleLogins } from './auth.js';
import type { RequestContext } from './context.js';
import { readBody, sendJson } from './http.js';
import { FilterError, filtersOf, matching, writeCsv } from './messages-query.js';
import { statusOf } from './status.js';
import { defaultFrom, isOneAddress, sendTest } from './test-mail.js';
import type { SendRecord } from '../../core/send-log.js';

/** Records one `GET /api/messages?format=json` returns at most (`truncated` says when more match). */
export const API_MAX_RECORDS = 10_000;

const CHALLENGE = 'Basic realm="gmail-transport bridge", charset="UTF-8"';

/**
 * Checks HTTP Basic credentials of an admin user (RFC 7617), with the console's lockout. On
 * refusal the answer (401, or 429 while the address is locked out) is sent here.
 */
export async function authenticateBasic(ctx: RequestContext, logins: ConsoleLogins): Promise<'ok' | 'refused'> {
  const credentials = parseBasicAuth(ctx.req.headers.authorization);
  if (!credentials) {
    sendJson(ctx.res, 401, { error: 'authentication required' }, { 'www-authenticate': CHALLENGE });
    return 'refused';
  }
  const verdict = await logins.check(ctx.client, credentials.user, credentials.password);
  if (verdict.ok) {
    ctx.authenticatedUser = verdict.user;
    return 'ok';
  }
  reportFailure(ctx.host.logger, ctx.client, ctx.host.config.admin.users.has(credentials.user) ? credentials.user : undefined, verdict, 'basic');
  const until = verdict.lockedUntil ?? verdict.startedLockout?.until;
  if (until !== undefined) {
    const seconds = Math.max(1, Math.ceil((until - Date.now()) / 1000));
    sendJson(ctx.res, 429, { error: 'too many failed logins from this address', retryAfterSeconds: seconds }, { 'retry-after': String(seconds) });
  } else {
    sendJson(ctx.res, 401, { error: 'wrong user or password' }, { 'www-authenticate': CHALLENGE });
  }
  return 'refused';
}

/** `GET /api/status`, `GET /api/messages`, `POST /api/test`, for scripts, with HTTP Basic. */
export async function handleApi(ctx: RequestContext, logins: ConsoleLogins): Promise<void> {
  const { req, res, url, host } = ctx;
  if ((await authenticateBasic(ctx, logins)) !== 'ok') return;
  const route = `${req.method ?? 'GET'} ${url.pathname}`;
  if (route === 'GET /api/status') return sendJson(res, 200, await statusOf(host, localeOf(url)));
  if (route === 'GET /api/messages') {
    const dir = host.config.sendLogDir;
    if (!dir) return sendJson(res, 404, { error: 'the send log is not written to files (sendLog.dir)' });
    const format = url.searchParams.get('format') ?? 'json';
    if (format === 'csv') return streamCsv(ctx, dir);
    if (format !== 'json') return sendJson(res, 400, { error: 'invalid filter', issues: [{ path: 'format', message: 'must be json or csv' }] });
    const records: SendRecord[] = [];
    try {
      for await (const record of matching(dir, filtersOf(url.searchParams), API_MAX_RECORDS + 1)) records.push(record);
    } catch (err) {
      if (err instanceof FilterError) return sendJson(res, 400, { error: 'invalid filter', issues: err.issues });
      throw err;
    }
    return sendJson(res, 200, { records: records.slice(0, API_MAX_RECORDS), truncated: records.length > API_MAX_RECORDS });
  }
  if (route === 'POST /api/test') {
    // JSON only: a form on another site cannot send it without the browser asking first
    // (CORS preflight), so a browser's remembered Basic credentials cannot be used against it.
    if (!(req.headers['content-type'] ?? '').startsWith('application/json'))
      return sendJson(res, 415, { error: 'send a JSON body: {"to": "you@example.com"}' });
    let body: { to?: unknown; from?: unknown };
    try {
      body = JSON.parse(await readBody(req)) as typeof body;
    } catch {
      return sendJson(res, 400, { error: 'the body is not JSON' });
    }
    const to = body?.to;
    const from = body?.from ?? defaultFrom(host);
    if (!isOneAddress(to)) return sendJson(res, 400, { error: 'invalid field', issues: [{ path: 'to', message: 'must be one e-mail address' }] });
    if (!isOneAddress(from))
      return sendJson(res, 400, {
        error: 'invalid field',
        issues: [{ path: 'from', message: 'must be one e-mail address (the upstream has no user to default to)' }],
      });
    const result = await sendTest(host, { to, from, admin: ctx.authenticatedUser ?? '', client: ctx.client, locale: localeOf(url) });
    return sendJson(res, result.ok ? 200 : 502, result);
  }
  return sendJson(res, 404, { error: 'no such API', paths: ['GET /api/status', 'GET /api/messages', 'POST /api/test'] });
}

/** The API speaks English unless asked for Japanese hints with `?lang=ja`. */
function localeOf(url: URL): 'en' | 'ja' {
  return url.searchParams.get('lang') === 'ja' ? 'ja' : 'en';
}

/** Streams the matching records as a CSV download; a bad filter is a 400 naming it. */
export async function streamCsv(ctx: RequestContext, dir: string): Promise<void> {
  const filters = filtersOf(ctx.url.searchParams);
  let started = false;
  try {
    await writeCsv(dir, filters, (chunk) => {
      if (!started) {
        started = true;
        const day = new Date().toISOString().slice(0, 10);
        ctx.res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="send-log-${day}.csv"` });
      }
      ctx.res.write(chunk);
    });
  } catch (err) {
    if (!(err instanceof FilterError) || started) throw err;
    return sendJson(ctx.res, 400, { error: 'invalid filter', issues: err.issues });
  }
  ctx.res.end();
}
