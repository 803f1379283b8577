import type { RequestContext } from './context.js';
import { html, type SafeHtml } from './html.js';
import { t } from './i18n.js';
import { page, tHtml, time } from './layout.js';
import { statusOf } from './status.js';

/** The status page: is the bridge working, and if not, what to do. */
export async function statusPage(ctx: RequestContext): Promise<SafeHtml> {
  const { locale } = ctx;
  const s = await statusOf(ctx.host, locale);
  const at = (iso: string) => time(Date.parse(iso));
  const row = (label: string, value: SafeHtml | string) =>
    html`<tr>
      <th scope="row">${label}</th>
      <td>${value}</td>
    </tr>`;
  const none = html`<span class="muted">${t(locale, 'status.none')}</span>`;
  const who = (r: { account?: string; client: string }) => (r.account ? `${r.account} (${r.client})` : r.client);

  const delivery = s.lastDelivery
    ? html`${at(s.lastDelivery.time)}<br />${t(locale, 'status.recipients', { n: s.lastDelivery.recipients, who: who(s.lastDelivery) })}`
    : none;
  const failure = s.lastFailure
    ? html`${at(s.lastFailure.time)} <code class="code">${s.lastFailure.code}</code> <code>${s.lastFailure.reply}</code
        ><br />${who(s.lastFailure)}${s.lastFailure.hint ? html`<p class="hint"><strong>${t(locale, 'status.hint')}:</strong> ${s.lastFailure.hint}</p>` : ''}`
    : none;
  const token =
    s.token === null
      ? html`<span class="muted">${t(locale, 'status.tokenNotUsed')}</span>`
      : html`${s.token.validUntil ? html`${tHtml(locale, 'status.tokenValidUntil', { time: at(s.token.validUntil) })}<br />` : html`<span class="muted">${t(locale, 'status.tokenNone')}</span><br />`}${s.token.lastRefresh ? tHtml(locale, 'status.tokenRefreshed', { time: at(s.token.lastRefresh) }) : ''}${s.token.invalidGrant ? html`<div class="notice error" role="alert">${t(locale, 'status.tokenInvalid')} ${s.token.hint}</div>` : ''}`;
  const lockouts =
    s.lockouts.length === 0
      ? html`<span class="muted">${t(locale, 'status.lockoutsNone')}</span>`
      : html`<ul>
            ${s.lockouts.map((l) => html`<li><code>${l.address}</code> → ${at(l.until)}</li>`)}
          </ul>
          <a href="/devices">${t(locale, 'nav.devices')} →</a>`;
  const budget = s.budget.map((b) =>
    row(`${t(locale, 'status.budget')}: ${b.mailbox}`, t(locale, 'status.budgetRow', { used: b.messages.used, limit: b.messages.limit ?? '∞' })),
  );

  const body = html`<table class="facts">
    ${row(t(locale, 'status.runningSince'), at(s.runningSince))} ${row(t(locale, 'status.upstream'), s.upstream.strategy)}
    ${s.upstream.user ? row(t(locale, 'status.mailbox'), s.upstream.user) : ''}
    ${row(t(locale, 'status.listening'), html`${s.listening.map((a) => html`<code>${a.host}:${a.port}</code> (${a.tls}) `)}`)}
    ${row(t(locale, 'status.lastDelivery'), delivery)} ${row(t(locale, 'status.lastFailure'), failure)} ${row(t(locale, 'status.token'), token)} ${budget}
    ${row(t(locale, 'status.lockouts'), lockouts)}
  </table>`;
  return page(ctx, { title: t(locale, 'status.title'), body, active: '/' });
}
