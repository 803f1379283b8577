import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { readRegularFile } from '../config/load-config.js';
import { errnoOf } from '../config/errno.js';
import { Secret } from '../core/secret.js';
import { configError } from '../core/validate.js';

/** An OAuth client: its id, its secret, and which kind Google Cloud console made. */
export interface ClientCredentials {
  /** `installed` is a "Desktop app" client, `web` a "Web application" one. */
  kind: 'installed' | 'web';
  clientId: string;
  clientSecret: Secret;
}

/**
 * Reads the client JSON downloaded from Google Cloud console (APIs & Services > Credentials):
 * `{ "installed": { "client_id", "client_secret", … } }` for a Desktop app client, `"web"` for a
 * Web application client.
 *
 * @throws GmailTransportError `CONFIG_INVALID` naming `--client-file` and what is missing, never the content.
 */
export async function readClientCredentials(file: string): Promise<ClientCredentials> {
  const fail = (message: string) =>
    configError(
      [{ path: '--client-file', message: `${file} ${message}` }],
      ['Download the client again: Google Cloud console > APIs & Services > Credentials > your OAuth 2.0 client (type "Desktop app") > Download JSON.'],
    );
  let text: string;
  try {
    text = await readRegularFile(file);
  } catch (err) {
    throw fail(`cannot be read (${errnoOf(err)})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw fail('is not valid JSON');
  }
  const root = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  const kind = 'installed' in root ? 'installed' : 'web' in root ? 'web' : undefined;
  const section = kind ? (root[kind] as Record<string, unknown> | null) : undefined;
  if (!kind || typeof section !== 'object' || section === null) throw fail('has neither an "installed" nor a "web" section: is it an OAuth client file?');
  const { client_id: clientId, client_secret: clientSecret } = section;
  if (typeof clientId !== 'string' || clientId === '') throw fail(`has no ${kind}.client_id`);
  if (typeof clientSecret !== 'string' || clientSecret === '') throw fail(`has no ${kind}.client_secret`);
  return { kind, clientId, clientSecret: new Secret(clientSecret) };
}

/**
 * Checks, before the consent, that `--out` can be written: a new file or a regular one (the token
 * replaces it by a rename, which fails on a directory), in a writable folder. A granted token is
 * not lost to a failure that could have been seen before asking for it.
 */
export async function checkWritable(file: string): Promise<void> {
  const fail = (message: string) => configError([{ path: '--out', message }]);
  const existing = await stat(file).catch((err: unknown) => {
    if ((err as { code?: unknown }).code === 'ENOENT') return undefined;
    throw fail(`${file} cannot be checked (${errnoOf(err)})`);
  });
  if (existing?.isDirectory()) throw fail(`${file} is a directory; give the path of the file to write`);
  if (existing && !existing.isFile()) throw fail(`${file} is not a regular file`);
  try {
    await access(dirname(file), constants.W_OK);
  } catch (err) {
    throw fail(`folder ${dirname(file)} is not writable (${errnoOf(err)})`);
  }
}

/**
 * Writes a secret readable by its owner only (0600): into a new file in the same folder, then
 * renamed over the target, so an existing file's looser mode is never reused and a failure
 * never leaves a half-written token.
 */
export async function writeSecretFile(file: string, content: string): Promise<void> {
  const temp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', 0o600);
  try {
    // The creation mode is filtered by the umask; set it outright before any byte is written.
    await handle.chmod(0o600);
    await handle.writeFile(content, 'utf8');
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}
