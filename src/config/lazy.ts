import type { GmailTransportConfig } from '../strategies/index.js';
import type { LoadConfigOptions } from './load-config.js';

export type { LoadConfigOptions } from './load-config.js';

/**
 * Reads a JSON config file (or takes a config object) and replaces every secret reference in it:
 * any string field may instead be `{ "env": "NAME" }` (an environment variable) or
 * `{ "file": "/run/secrets/x" }` (a regular file's content, without a byte-order mark and
 * surrounding whitespace; a relative path is relative to the config file). So a config can be
 * committed without its secrets. A relative `keyFile` is resolved the same way. Nothing else is
 * checked here: pass the result to `createGmailTransport`, which validates it.
 *
 * The file reader and its JSON diagnostics load on the first call: an application that builds
 * its config in code never holds them.
 *
 * @param source - A path to a JSON file, or a config object (not modified).
 * @throws GmailTransportError `CONFIG_INVALID` naming the file, or each field whose variable is
 *   unset or empty or whose file cannot be read (by field path and variable or file name, never by value).
 * @example
 * ```ts
 * // gmail.json: { "strategy": "oauth2", "user": "me@example.com", "clientId": "123.apps.googleusercontent.com",
 * //   "clientSecret": { "env": "GMAIL_CLIENT_SECRET" }, "refreshToken": { "file": "/run/secrets/gmail-refresh" } }
 * const mailer = createGmailTransport(await loadConfig('gmail.json'));
 * ```
 */
export async function loadConfig<T = GmailTransportConfig>(source: string | Record<string, unknown>, options: LoadConfigOptions = {}): Promise<T> {
  const reader = await import('./load-config.js');
  return reader.loadConfig<T>(source, options);
}
