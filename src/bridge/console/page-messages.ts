import { SEND_STATUSES, type SendRecord } from '../../core/send-log.js';
import type { RequestContext } from './context.js';
import { html, type SafeHtml } from './html.js';
import { t, type MessageKey } from './i18n.js';
import { notice, page, time } from './layout.js';
import { FilterError, filtersOf, pageOf, pageOfRecords, type MessageFilters } from './messages-query.js';

/** The send log with filters by date, status, account and recipient, in pages, and its CSV. */
export async function messagesPage(ctx: RequestContext): Promise<{ status: number; body: SafeHtml }> {
  const { locale } = ctx;
  const dir = ctx.host.config.sendLogDir;
  const title = t(locale, 'messages.title');
  if (!dir) return { status: 200, body: page(ctx, { title, body: notice('info', t(locale, 'messages.noLog')), active: '/messages' }) };
  const filters = filtersOf(ctx.url.searchParams);
  const number = pageOf(ctx.url.searchParams);
  let result: { records: SendRecord[]; more: boolean };
  try {
    result = await pageOfRecords(dir, filters, number);
  } catch (err) {
    if (!(err instanceof FilterError)) throw err;
    const problems = html`${t(locale, 'error.badFilter')}
      <ul>
        ${err.issues.map((i) => html`<li><code>${i.path}</code> ${i.message}</li>`)}
      </ul>`;
    return { status: 400, body: page(ctx, { title, body: html`${form(ctx, filters)}${notice('error', problems)}`, active: '/messages' }) };
  }
  const query = (extra: Record<string, string>) => new URLSearchParams({ ...(filters as Record<string, string>), ...extra }).toString();
  const pager = html`<nav class="pager" aria-label="pages">
    ${number > 1 ? html`<a href="/messages?${query({ page: String(number - 1) })}" rel="prev">${t(locale, 'messages.newer')}</a>` : ''}
    <span>${t(locale, 'messages.page', { n: number })}</span>
    ${result.more ? html`<a href="/messages?${query({ page: String(number + 1) })}" rel="next">${t(locale, 'messages.older')}</a>` : ''}
  </nav>`;
  const table =
    result.records.length === 0
      ? notice('info', t(locale, 'messages.empty'))
      : html`<table class="messages">
          <thead>
            <tr>
              <th>${t(locale, 'messages.time')}</th>
              <th>${t(locale, 'messages.status')}</th>
              <th>${t(locale, 'messages.to')}</th>
              <th>${t(locale, 'messages.from')}</th>
              <th>${t(locale, 'messages.account')}</th>
              <th>${t(locale, 'messages.subject')}</th>
              <th>${t(locale, 'messages.code')}</th>
              <th>${t(locale, 'messages.response')}</th>
            </tr>
          </thead>
          <tbody>
            ${result.records.map((r) => row(ctx, r))}
          </tbody>
        </table>`;
  const csv = html`<p><a class="button" href="/messages.csv?${query({})}" download>${t(locale, 'messages.csv')}</a></p>`;
  return { status: 200, body: page(ctx, { title, body: html`${form(ctx, filters)}${csv}${table}${pager}`, active: '/messages' }) };
}

function row(ctx: RequestContext, r: SendRecord): SafeHtml {
  const when = Date.parse(r.time);
  return html`<tr class="${r.status}">
    <td>${Number.isNaN(when) ? r.time : time(when)}</td>
    <td><span class="badge ${r.status}">${statusLabel(ctx, r.status)}</span></td>
    <td>${r.to.join(', ')}</td>
    <td>${r.from === '' ? '<>' : r.from}</td>
    <td>${r.account ?? ''}</td>
    <td>${r.subject ?? ''}</td>
    <td>${r.code ? html`<code>${r.code}</code>` : ''}</td>
    <td class="response">${r.response ?? ''}</td>
  </tr>`;
}

function statusLabel(ctx: RequestContext, status: string): string {
  return (SEND_STATUSES as readonly string[]).includes(status) ? t(ctx.locale, `status.${status}` as MessageKey) : status;
}

function form(ctx: RequestContext, f: MessageFilters): SafeHtml {
  const { locale } = ctx;
  const option = (value: string, label: string) => html`<option value="${value}" ${f.status === value ? html` selected` : ''}>${label}</option>`;
  return html`<form method="get" action="/messages" class="filters">
    <label>${t(locale, 'messages.since')} <input type="date" name="since" value="${f.since ?? ''}" /></label>
    <label>${t(locale, 'messages.until')} <input type="date" name="until" value="${f.until ?? ''}" /></label>
    <label
      >${t(locale, 'messages.status')}
      <select name="status">
        ${option('', t(locale, 'messages.any'))}${SEND_STATUSES.map((s) => option(s, statusLabel(ctx, s)))}
      </select></label
    >
    <label>${t(locale, 'messages.account')} <input type="text" name="account" value="${f.account ?? ''}" /></label>
    <label>${t(locale, 'messages.to')} <input type="text" name="to" value="${f.to ?? ''}" /></label>
    <button type="submit">${t(locale, 'messages.filter')}</button>
  </form>`;
}
