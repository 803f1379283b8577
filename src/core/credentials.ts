import { Secret } from './secret.js';
import type { ConfigChecker, Raw } from './validate.js';

/** Resolved in the config's locale by configError (see errors/hints.ts). */
export const APP_PASSWORD_HINT = 'CONFIG_INVALID:app-password';

/** Google app passwords are 16 letters; Google displays them in four groups of four. */
const APP_PASSWORD = /^[a-z]{16}$/i;

/** Strips the spaces of Google's display form; `undefined` when it is not an app password. */
export function normalizeAppPassword(value: string): string | undefined {
  const compact = value.replace(/[\s\u00a0]+/g, '');
  return APP_PASSWORD.test(compact) ? compact : undefined;
}

/** Reads and checks an app password field, reporting a hint on how to get one. */
export function parseAppPassword(check: ConfigChecker, input: Raw, key: string): Secret | undefined {
  const raw = check.string(input, key, { required: true });
  if (raw === undefined) return undefined;
  const normalized = normalizeAppPassword(raw);
  if (!normalized) {
    check.fail(key, 'is not an app password (16 letters, spaces allowed)', APP_PASSWORD_HINT);
    return undefined;
  }
  return new Secret(normalized);
}

/** A bare e-mail address, as Google accounts and mailboxes are named. */
export function parseMailbox(check: ConfigChecker, input: Raw, key: string, opts: { required?: boolean } = { required: true }): string | undefined {
  const value = check.string(input, key, { required: opts.required ?? true });
  if (value === undefined) return undefined;
  if (!/^[^\s@<>()]+@[^\s@<>()]+\.[^\s@<>()]+$/.test(value.trim())) {
    check.fail(
      key,
      'must be an e-mail address such as me@example.com',
      'Give the whole address of the account (me@gmail.com, or you@your-domain.com on Workspace), not only the part before @.',
    );
    return undefined;
  }
  return value.trim();
}

/** A plain secret string field (password, API key, client secret). */
export function parseSecret(check: ConfigChecker, input: Raw, key: string, opts: { required?: boolean } = { required: true }): Secret | undefined {
  const value = check.string(input, key, { required: opts.required ?? true, nonEmpty: true });
  return value === undefined ? undefined : new Secret(value);
}
