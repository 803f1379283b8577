import type { IncomingMessage, ServerResponse } from 'node:http';
import { normalizeAddress } from '../networks.js';
import { handleApi, authenticateBasic, streamCsv } from './api.js';
import { ASSETS } from './assets.js';
import { ConsoleLogins, reportFailure } from './auth.js';
import type { ConsoleHost, RequestContext } from './context.js';
import { html } from './html.js';
import { formatTime, LANG_COOKIE, pickLocale, t } from './i18n.js';
import { notice, page } from './layout.js';
import { metricsText } from './metrics.js';
import { BodyTooLarge, isOwnHost, isSameOrigin, readBody, redirect, SECURITY_HEADERS, sendHtml, sendText } from './http.js';
import { messagesPage } from './page-messages.js';
import { devicesPage, unlock } from './page-devices.js';
import { loginPage } from './page-login.js';
import { googlePage } from './page-google.js';
import { GoogleConnect } from './google.js';
import { statusPage } from './page-status.js';
import { ConsoleSessions, cookie, parseCookies, randomToken, sameToken } from './sessions.js';
import { defaultFrom, isOneAddress, sendTest, testPage } from './test-mail.js';

/** The console's request handler. */
export function createConsoleHandler(host: ConsoleHost): { handle: (req: IncomingMessage, res: ServerResponse) => void; close(): Promise<void> } {
  const admin = host.config.admin;
  const secure = admin.secure;
  // Under TLS the __Host- prefix also binds the cookie to this host and path (RFC 6265bis 4.1.3.2).
  const SESSION = secure ? '__Host-gt_session' : 'gt_session';
  const LOGIN = secure ? '__Host-gt_login' : 'gt_login';
  const sessions = new ConsoleSessions();
  const google = host.config.upstreamStrategy === 'oauth2' && admin.refreshTokenFile ? new GoogleConnect(host) : undefined;
  const logins = new ConsoleLogins(admin.users, host.config.limits);
  const tls = host.config.tls;
  const names = new Set([
    host.config.hostname.toLowerCase(),
    admin.listen.host.toLowerCase(),
    ...(tls?.kind === 'self-signed' ? (tls.hostnames ?? []).map((h) => h.toLowerCase()) : []),
  ]);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    if (secure) res.setHeader('strict-transport-security', 'max-age=31536000');
    if (!isOwnHost(req.headers.host, names)) return sendText(res, 400, 'Unknown host name\n');
    const url = new URL(req.url ?? '/', 'http://console.invalid');
    const cookies = parseCookies(req.headers.cookie);
    const ctx: RequestContext = {
      req,
      res,
      url,
      cookies,
      locale: pickLocale(req, url.searchParams, cookies),
      client: normalizeAddress(req.socket.remoteAddress ?? ''),
      host,
    };
    const chosen = url.searchParams.get('lang');
    if (chosen === 'en' || chosen === 'ja') res.setHeader('set-cookie', cookie(LANG_COOKIE, chosen, { secure, maxAgeSeconds: 365 * 86_400 }));
    const method = req.method ?? 'GET';
    const path = url.pathname;

    if (path.startsWith('/static/')) {
      const asset = method === 'GET' ? ASSETS.get(path) : undefined;
      if (!asset) return sendText(res, 404, 'Not found\n');
      res.setHeader('cache-control', 'no-cache');
      return sendText(res, 200, asset.body, asset.type);
    }
    if (path === '/metrics') {
      const allowed = admin.metricsNetworks.allows(ctx.client) || (await authenticateBasic(ctx, logins)) === 'ok';
      if (!allowed) return;
      return sendText(res, 200, metricsText(host.activity, host.smtpLockout), 'text/plain; version=0.0.4; charset=utf-8');
    }
    if (path.startsWith('/api/')) return handleApi(ctx, logins);
    // Browsers ask for it by themselves; there is none.
    if (path === '/favicon.ico') return sendText(res, 404, 'Not found\n');

    if (path === '/login') return login(ctx);
    const session = sessions.get(cookies.get(SESSION));
    if (!session)
      return method === 'GET'
        ? redirect(res, '/login')
        : sendHtml(res, 403, page(ctx, { title: 'Forbidden', body: notice('error', t(ctx.locale, 'error.forbidden')) }));
    ctx.session = session;

    if (method === 'POST') {
      const form = await formOf(ctx);
      if (!form) return;
      if (path === '/logout') {
        sessions.destroy(session.id);
        return redirect(res, '/login', { 'set-cookie': cookie(SESSION, '', { secure, maxAgeSeconds: 0 }) });
      }
      if (path === '/google/start' && google) {
        await google.start(ctx.locale);
        return redirect(res, '/google');
      }
      if (path === '/google/paste' && google) {
        const outcome = await google.paste(form.get('address') ?? '');
        if (typeof outcome !== 'string') return redirect(res, '/google');
        return sendHtml(
          res,
          400,
          googlePage(ctx, google.state, { kind: 'error', text: t(ctx.locale, outcome === 'no-flow' ? 'google.noFlow' : 'google.notOurs') }),
        );
      }
      if (path === '/devices/unlock') return sendHtml(res, 200, unlock(ctx, form.get('address') ?? ''));
      if (path === '/test') {
        const to = form.get('to')?.trim() ?? '';
        const from = form.get('from')?.trim() || defaultFrom(host) || '';
        if (!isOneAddress(to) || !isOneAddress(from)) return sendHtml(res, 400, testPage(ctx, { to, from }, { invalid: true }));
        const result = await sendTest(host, { to, from, admin: session.user, client: ctx.client, locale: ctx.locale });
        return sendHtml(res, 200, testPage(ctx, { to, from }, result));
      }
      return sendHtml(res, 404, page(ctx, { title: '404', body: notice('info', t(ctx.locale, 'error.notFound')) }));
    }
    if (method !== 'GET' && method !== 'HEAD') return sendText(res, 405, 'Method not allowed\n');
    if (path === '/') return sendHtml(res, 200, await statusPage(ctx));
    if (path === '/messages') {
      const { status, body } = await messagesPage(ctx);
      return sendHtml(res, status, body);
    }
    if (path === '/messages.csv') return csv(ctx);
    if (path === '/devices') return sendHtml(res, 200, devicesPage(ctx));
    if (path === '/test') return sendHtml(res, 200, testPage(ctx, {}));
    if (path === '/google') return sendHtml(res, 200, googlePage(ctx, google?.state));
    return sendHtml(res, 404, page(ctx, { title: '404', body: notice('info', t(ctx.locale, 'error.notFound')) }));
  };

  /**
   * A POST's form, once it proved it comes from a console page: same origin by the browser's
   * word, and the session's CSRF token. Otherwise the answer is sent here (403).
   */
  const formOf = async (ctx: RequestContext): Promise<URLSearchParams | undefined> => {
    const form = await formBody(ctx);
    if (form && isSameOrigin(ctx.req, secure) && ctx.session && sameToken(form.get('_csrf'), ctx.session.csrf)) return form;
    if (!ctx.res.headersSent) sendHtml(ctx.res, 403, page(ctx, { title: 'Forbidden', body: notice('error', t(ctx.locale, 'error.forbidden')) }));
    return undefined;
  };

  const login = async (ctx: RequestContext): Promise<void> => {
    const { req, res, locale } = ctx;
    const fresh = () => {
      const token = randomToken();
      return { token, header: cookie(LOGIN, token, { secure }) };
    };
    if (req.method !== 'POST') {
      // The token the browser holds already is kept: a second login page (another tab, a
      // request the browser makes by itself) must not spoil the form shown first.
      const held = ctx.cookies.get(LOGIN);
      if (held && /^[A-Za-z0-9_-]{43}$/.test(held)) return sendHtml(res, 200, loginPage(ctx, held));
      const { token, header } = fresh();
      return sendHtml(res, 200, loginPage(ctx, token), { 'set-cookie': header });
    }
    const form = await formBody(ctx);
    if (!form) return;
    const expected = ctx.cookies.get(LOGIN);
    if (!isSameOrigin(req, secure) || !expected || !sameToken(form.get('_csrf'), expected)) {
      const { token, header } = fresh();
      return sendHtml(res, 403, loginPage(ctx, token, t(locale, 'login.expired')), { 'set-cookie': header });
    }
    const user = form.get('user') ?? '';
    const verdict = await logins.check(ctx.client, user, form.get('password') ?? '');
    if (verdict.ok) {
      const session = sessions.create(verdict.user);
      host.logger?.info?.({ event: 'admin-login', client: ctx.client, admin: verdict.user }, 'gmail-transport bridge: administrator logged in to the console');
      return redirect(res, '/', { 'set-cookie': [cookie(SESSION, session.id, { secure }), cookie(LOGIN, '', { secure, maxAgeSeconds: 0 })] });
    }
    reportFailure(host.logger, ctx.client, admin.users.has(user) ? user : undefined, verdict, 'form');
    const until = verdict.lockedUntil ?? verdict.startedLockout?.until;
    const message = until !== undefined ? t(locale, 'login.locked', { time: formatTime(until) }) : t(locale, 'login.failed');
    const { token, header } = fresh();
    return sendHtml(res, until !== undefined ? 429 : 401, loginPage(ctx, token, message), { 'set-cookie': header });
  };

  const csv = async (ctx: RequestContext): Promise<void> => {
    const dir = host.config.sendLogDir;
    if (!dir) return sendHtml(ctx.res, 404, page(ctx, { title: '404', body: notice('info', t(ctx.locale, 'messages.noLog')) }));
    await streamCsv(ctx, dir);
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((err: unknown) => {
      if (err instanceof BodyTooLarge) {
        if (!res.headersSent) sendText(res, 413, 'Request too large\n');
        return;
      }
      host.logger?.error?.(
        { event: 'admin-error', code: (err as { code?: unknown }).code ?? 'error' },
        'gmail-transport bridge: the console failed to answer a request',
      );
      if (!res.headersSent) sendText(res, 500, 'Internal error\n');
      else res.destroy();
    });
  };
  return { handle: onRequest, close: async () => google?.close() };
}

async function formBody(ctx: RequestContext): Promise<URLSearchParams | undefined> {
  const type = ctx.req.headers['content-type'] ?? '';
  if (!type.startsWith('application/x-www-form-urlencoded')) {
    sendHtml(ctx.res, 415, page(ctx, { title: '415', body: html`${t(ctx.locale, 'error.forbidden')}` }));
    return undefined;
  }
  return new URLSearchParams(await readBody(ctx.req));
}
