import type { RequestContext } from './context.js';
import { html, type SafeHtml } from './html.js';
import { t } from './i18n.js';
import { notice, page } from './layout.js';

/**
 * The login form. `token` is the login form's own CSRF token, also set as a cookie: a login
 * posted from another site (login CSRF) lacks the cookie's value.
 */
export function loginPage(ctx: RequestContext, token: string, error?: string): SafeHtml {
  const { locale } = ctx;
  const body = html`${error ? notice('error', error) : ''}
    <form method="post" action="/login" class="stack login">
      <input type="hidden" name="_csrf" value="${token}" />
      <label>${t(locale, 'login.user')} <input type="text" name="user" autocomplete="username" required autofocus /></label>
      <label>${t(locale, 'login.password')} <input type="password" name="password" autocomplete="current-password" required /></label>
      <button type="submit">${t(locale, 'login.submit')}</button>
    </form>`;
  return page(ctx, { title: t(locale, 'login.title'), body });
}
