import type { RequestContext } from './context.js';
import { html, type SafeHtml } from './html.js';
import { t } from './i18n.js';
import { notice, page, time } from './layout.js';

/** Device accounts and allowed networks (read-only), and the lockouts in force with an unlock button. */
export function devicesPage(ctx: RequestContext, message?: { kind: 'ok' | 'info'; text: string }): SafeHtml {
  const { locale, host, session } = ctx;
  const { config } = host;
  const accounts = [...config.accounts.values()];
  const accountTable =
    accounts.length === 0
      ? html`<p class="muted">${t(locale, 'devices.noAccounts')}</p>`
      : html`<table>
          <thead>
            <tr>
              <th>${t(locale, 'devices.user')}</th>
              <th>${t(locale, 'devices.allowFrom')}</th>
            </tr>
          </thead>
          <tbody>
            ${accounts.map(
              (a) =>
                html`<tr>
                  <td><code>${a.user}</code></td>
                  <td>${a.allowFrom ? a.allowFrom.join(', ') : html`<span class="muted">${t(locale, 'devices.anySender')}</span>`}</td>
                </tr>`,
            )}
          </tbody>
        </table>`;
  const networks =
    config.networkList.length === 0
      ? html`<p class="muted">${t(locale, 'devices.noNetworks')}</p>`
      : html`<ul>
          ${config.networkList.map((n) => html`<li><code>${n}</code></li>`)}
        </ul>`;
  const locked = host.smtpLockout.lockedOut();
  const lockouts =
    locked.length === 0
      ? html`<p class="muted">${t(locale, 'status.lockoutsNone')}</p>`
      : html`<table>
          <thead>
            <tr>
              <th>${t(locale, 'devices.address')}</th>
              <th>${t(locale, 'devices.failures')}</th>
              <th>${t(locale, 'devices.until')}</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            ${locked.map(
              (l) =>
                html`<tr>
                  <td><code>${l.address}</code></td>
                  <td>${l.failures}</td>
                  <td>${time(l.until)}</td>
                  <td>
                    <form method="post" action="/devices/unlock">
                      <input type="hidden" name="_csrf" value="${session?.csrf ?? ''}" /><input type="hidden" name="address" value="${l.address}" /><button
                        type="submit"
                      >
                        ${t(locale, 'devices.unlock')}
                      </button>
                    </form>
                  </td>
                </tr>`,
            )}
          </tbody>
        </table>`;
  const body = html`${message ? notice(message.kind, message.text) : ''}
    <h2>${t(locale, 'devices.accounts')}</h2>
    ${accountTable}
    <h2>${t(locale, 'devices.networks')}</h2>
    ${networks}
    <h2>${t(locale, 'devices.lockouts')}</h2>
    ${lockouts}`;
  return page(ctx, { title: t(locale, 'devices.title'), body, active: '/devices' });
}

/** The unlock button: lifts the SMTP lockout of one address. */
export function unlock(ctx: RequestContext, address: string): SafeHtml {
  const { locale, host } = ctx;
  const done = host.smtpLockout.unlock(address);
  if (done)
    host.logger?.info?.({ event: 'admin-unlock', client: address, admin: ctx.session?.user }, 'gmail-transport bridge: an administrator lifted a lockout');
  return devicesPage(ctx, { kind: done ? 'ok' : 'info', text: t(locale, done ? 'devices.unlocked' : 'devices.notLocked', { address }) });
}
