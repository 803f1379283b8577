import { readFileSync } from 'node:fs';
import type { Secret } from '../../core/secret.js';
import { createTokenCodec } from '../../tokens/crypto.js';

/** Bound into a sealed file as additional data: a sealed value of another purpose does not open here. */
export const SEAL_CONTEXT = 'gmail-transport:bridge:refresh-token';

/**
 * Reads the refresh token Connect Google kept, unsealing it with `key` when it is sealed.
 * `undefined` when there is no file yet; an error message (never the content) when the file is
 * there but cannot be used.
 */
export function readKeptToken(file: string, key: Secret | undefined): { token?: string; problem?: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (err) {
    const code = (err as { code?: string }).code;
    return code === 'ENOENT' ? {} : { problem: `cannot be read (${code ?? 'error'})` };
  }
  if (text === '') return { problem: 'is empty' };
  const codec = createTokenCodec(key);
  const sealed = text.startsWith('gt1.');
  if (!sealed) return key ? { problem: 'is not sealed, but tokenEncryptionKey is set: connect Google again from the console' } : { token: text };
  if (!key) return { problem: 'is sealed, and the upstream has no tokenEncryptionKey to open it' };
  const decoded = codec.decode(text, SEAL_CONTEXT);
  return decoded.ok ? { token: decoded.value.token } : { problem: `cannot be opened with the upstream's tokenEncryptionKey (${decoded.reason})` };
}
