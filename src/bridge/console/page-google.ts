import type { RequestContext } from './context.js';
import type { ConnectState } from './google.js';
import { html, type SafeHtml } from './html.js';
import { t } from './i18n.js';
import { notice, page, time } from './layout.js';

/** The Connect Google page: start the consent, paste the address back, see the outcome. */
export function googlePage(ctx: RequestContext, state: ConnectState | undefined, message?: { kind: 'error' | 'info'; text: string }): SafeHtml {
  const { locale, session, host } = ctx;
  const csrf = session?.csrf ?? '';
  const title = t(locale, 'google.title');
  if (!state)
    return page(ctx, {
      title,
      body: notice('info', t(locale, host.config.upstreamStrategy === 'oauth2' ? 'google.noFile' : 'google.notOauth')),
      active: '/google',
    });
  const user = (host.config.upstream as { user?: unknown }).user;
  const start = html`<form method="post" action="/google/start">
    <input type="hidden" name="_csrf" value="${csrf}" /><button type="submit">${t(locale, 'google.start')}</button>
  </form>`;
  let body: SafeHtml;
  if (state.kind === 'waiting') {
    body = html`<ol class="steps">
        <li>${t(locale, 'google.step1')} <a href="${state.url}" target="_blank" rel="noopener noreferrer" class="button">${t(locale, 'google.open')}</a></li>
        <li>${t(locale, 'google.step2', { user: typeof user === 'string' ? user : '' })}</li>
        <li>${t(locale, 'google.step3')}</li>
      </ol>
      <form method="post" action="/google/paste" class="stack">
        <input type="hidden" name="_csrf" value="${csrf}" />
        <label
          >${t(locale, 'google.paste', { redirect: state.redirectUri })}
          <input type="text" name="address" required autocomplete="off" placeholder="${state.redirectUri}?state=…&amp;code=…"
        /></label>
        <button type="submit">${t(locale, 'google.finish')}</button>
      </form>
      <p><a href="/google">${t(locale, 'google.reload')}</a></p>
      <form method="post" action="/google/start" class="again">
        <input type="hidden" name="_csrf" value="${csrf}" /><button type="submit">${t(locale, 'google.again')}</button>
      </form>`;
  } else if (state.kind === 'connected') {
    body = html`${notice('ok', html`${t(locale, 'google.connected', { account: state.account })} ${time(state.at)}`)}${start}`;
  } else if (state.kind === 'failed') {
    const hint = state.hint[locale];
    body = html`${notice('error', html`<code class="code">${state.code}</code> ${state.message[locale]}${hint ? html`<p class="hint">${hint}</p>` : ''}`)}${start}`;
  } else {
    body = html`<p>${t(locale, 'google.intro')}</p>
      ${start}`;
  }
  return page(ctx, { title, body: html`${message ? notice(message.kind, message.text) : ''}${body}`, active: '/google' });
}
