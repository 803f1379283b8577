import { randomBytes } from 'node:crypto';
import { isGmailTransportError } from '../../errors/error.js';
import { mapError } from '../../errors/map-error.js';
import { hintFor, type Locale } from '../../errors/hints.js';
import { setSendContext } from '../../send-log/trace.js';
import type { ConsoleHost, RequestContext } from './context.js';
import { html, type SafeHtml } from './html.js';
import { t } from './i18n.js';
import { oneLine } from '../../core/untrusted-text.js';
import { notice, page } from './layout.js';

/** The outcome of a test message, as the page and `POST /api/test` show it. */
export type TestResult = { ok: true; response?: string; messageId?: string } | { ok: false; code: string; message: string; hint?: string; response?: string };

const ADDRESS = /^[^\s@<>",;]+@[^\s@<>",;]+\.[^\s@<>",;]+$/;

/** Whether `to` is one plain address (a list or a display name is refused). */
export function isOneAddress(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 254 && ADDRESS.test(value);
}

/** The mailbox test messages come from: the upstream's own user, where it has one. */
export function defaultFrom(host: ConsoleHost): string | undefined {
  const user = (host.config.upstream as { user?: unknown }).user;
  return typeof user === 'string' ? user : undefined;
}

/**
 * Sends a short message through the running upstream and reports its answer. Recorded in the
 * send log like a device's message, with `account` `admin:<user>`.
 */
export async function sendTest(host: ConsoleHost, opts: { to: string; from: string; admin: string; client: string; locale: Locale }): Promise<TestResult> {
  const data = {
    from: opts.from,
    to: opts.to,
    subject: t(opts.locale, 'test.subject'),
    text: `${t(opts.locale, 'test.body')}\n`,
  };
  setSendContext(data, { id: `admin.${randomBytes(6).toString('hex')}`, account: `admin:${opts.admin}`, client: opts.client });
  try {
    const info = (await host.upstream().sendMail(data)) as { response?: unknown; messageId?: unknown };
    host.logger?.info?.({ event: 'admin-test', admin: opts.admin, outcome: 'accepted' }, 'gmail-transport bridge: test message accepted by the upstream');
    host.activity.noteTest({ ok: true, account: `admin:${opts.admin}`, client: opts.client });
    return {
      ok: true,
      ...(typeof info.response === 'string' ? { response: info.response } : {}),
      ...(typeof info.messageId === 'string' ? { messageId: info.messageId } : {}),
    };
  } catch (thrown) {
    // GmailTransportError's message, hint and response carry no secret by contract.
    const err = isGmailTransportError(thrown) ? thrown : mapError(thrown);
    host.logger?.warn?.({ event: 'admin-test', admin: opts.admin, outcome: 'failed', code: err.code }, 'gmail-transport bridge: test message failed');
    host.activity.noteTest({ ok: false, code: err.code, reply: oneLine(err.response ?? err.message), account: `admin:${opts.admin}`, client: opts.client });
    // The transport's hint is in its own locale (and may name a variant); the page's language wins.
    const text = opts.locale === 'en' ? err.hint : hintFor(err.code, opts.locale);
    const hint = text ? { hint: text } : {};
    return { ok: false, code: err.code, message: err.message, ...hint, ...(err.response ? { response: err.response } : {}) };
  }
}

/** The test page, with the last result when there is one. */
export function testPage(ctx: RequestContext, form: { to?: string; from?: string }, result?: TestResult | { invalid: true }): SafeHtml {
  const { locale, session } = ctx;
  const from = form.from ?? defaultFrom(ctx.host) ?? '';
  const outcome = !result
    ? ''
    : 'invalid' in result
      ? notice('error', t(locale, 'test.badAddress'))
      : result.ok
        ? notice('ok', html`${t(locale, 'test.ok')}${result.response ? html`<br />${t(locale, 'test.reply')}: <code>${result.response}</code>` : ''}`)
        : notice(
            'error',
            html`${t(locale, 'test.failed')}<br /><code class="code">${result.code}</code>
              ${result.message}${result.response ? html`<br />${t(locale, 'test.reply')}: <code>${result.response}</code>` : ''}${result.hint ? html`<p class="hint"><strong>${t(locale, 'status.hint')}:</strong> ${result.hint}</p>` : ''}`,
          );
  const body = html`<p>${t(locale, 'test.intro')}</p>
    ${outcome}
    <form method="post" action="/test" class="stack">
      <input type="hidden" name="_csrf" value="${session?.csrf ?? ''}" />
      <label>${t(locale, 'test.from')} <input type="email" name="from" value="${from}" required /></label>
      <label>${t(locale, 'test.to')} <input type="email" name="to" value="${form.to ?? ''}" required autofocus /></label>
      <button type="submit">${t(locale, 'test.send')}</button>
    </form>`;
  return page(ctx, { title: t(locale, 'test.title'), body, active: '/test' });
}
