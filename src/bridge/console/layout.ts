import type { Locale } from '../../errors/hints.js';
import type { RequestContext } from './context.js';
import { escapeHtml, html, SafeHtml } from './html.js';
import { formatTime, t, type MessageKey } from './i18n.js';

const NAV: Array<{ path: string; key: MessageKey }> = [
  { path: '/', key: 'nav.status' },
  { path: '/messages', key: 'nav.messages' },
  { path: '/devices', key: 'nav.devices' },
  { path: '/test', key: 'nav.test' },
  { path: '/google', key: 'nav.google' },
];

/** A whole page: header with navigation and the language switch, then `body`. */
export function page(ctx: RequestContext, opts: { title: string; body: SafeHtml; active?: string }): SafeHtml {
  const { locale, session } = ctx;
  const nav = session
    ? html`<nav>
        <ul>
          ${NAV.filter((item) => item.path !== '/google' || ctx.host.config.upstreamStrategy === 'oauth2').map((item) => html`<li><a href="${item.path}" ${item.path === opts.active ? html` aria-current="page"` : ''}>${t(locale, item.key)}</a></li>`)}
        </ul>
        <form method="post" action="/logout" class="logout">
          <input type="hidden" name="_csrf" value="${session.csrf}" /><span class="user">${session.user}</span>
          <button type="submit">${t(locale, 'nav.logout')}</button>
        </form>
      </nav>`
    : '';
  return html`<!doctype html>
    <html lang="${locale}">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${opts.title} · ${t(locale, 'title')}</title>
        <link rel="stylesheet" href="/static/console.css" />
        <script src="/static/console.js" defer></script>
      </head>
      <body>
        <header><span class="brand">${t(locale, 'title')}</span>${languageSwitch(ctx)}</header>
        ${nav}
        <main>
          <h1>${opts.title}</h1>
          ${opts.body}
        </main>
      </body>
    </html> `;
}

/** Links to the same page in the other language, keeping the page's query (its filters). */
function languageSwitch(ctx: RequestContext): SafeHtml {
  const link = (lang: Locale, label: string) => {
    const query = new URLSearchParams(ctx.url.searchParams);
    query.set('lang', lang);
    return lang === ctx.locale
      ? html`<strong lang="${lang}">${label}</strong>`
      : html`<a href="${ctx.url.pathname}?${query.toString()}" lang="${lang}" hreflang="${lang}">${label}</a>`;
  };
  return html`<span class="lang">${link('en', 'English')} | ${link('ja', '日本語')}</span>`;
}

/** A time the page's script shows in the browser's time zone; the bridge's time without script. */
export function time(ms: number): SafeHtml {
  return html`<time datetime="${new Date(ms).toISOString()}">${formatTime(ms)}</time>`;
}

/** A notice box: `ok`, `error` or plain information. */
export function notice(kind: 'ok' | 'error' | 'info', content: SafeHtml | string): SafeHtml {
  return html`<div class="notice ${kind}" role="${kind === 'error' ? 'alert' : 'status'}">${content}</div>`;
}

/** A message whose `{name}` placeholders take markup (a time, a link); the rest is escaped. */
export function tHtml(locale: Locale, key: MessageKey, vars: Record<string, SafeHtml>): SafeHtml {
  const marks = Object.fromEntries(Object.keys(vars).map((name) => [name, `\u0000${name}\u0000`]));
  const text = escapeHtml(t(locale, key, marks));
  return new SafeHtml(text.replace(/\u0000(\w+)\u0000/g, (_, name: string) => vars[name]!.text));
}
