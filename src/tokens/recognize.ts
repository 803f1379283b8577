/**
 * Recognising what a config passes as a token store, a lock or an encryption key: what
 * validation needs when a transport is created. The code that uses them (provider.ts and its
 * store, lock and codec) is loaded only at the first token request.
 */
import { Secret } from '../core/secret.js';
import type { TokenLock, TokenStore } from '../core/tokens.js';

/** Whether a value can serve as a token store: a Keyv instance or any `{ get, set, delete }`. */
export function isTokenStoreLike(value: unknown): value is TokenStore {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.get === 'function' && typeof v.set === 'function' && typeof v.delete === 'function';
}

/** Whether a value can serve as an explicit `tokenLock`. */
export function isTokenLockLike(value: unknown): value is TokenLock {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.acquire === 'function' && typeof v.release === 'function';
}

/**
 * Reads a 32-byte key given as 64 hex characters, base64/base64url, or bytes. The result is
 * held as base64 in a Secret; `undefined` when it is not exactly 32 bytes.
 */
export function parseEncryptionKey(value: unknown): Secret | undefined {
  let bytes: Buffer | undefined;
  if (value instanceof Uint8Array) bytes = Buffer.from(value);
  else if (typeof value === 'string') {
    const text = value.trim();
    if (/^[0-9a-f]{64}$/i.test(text)) bytes = Buffer.from(text, 'hex');
    else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) bytes = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  }
  if (!bytes || bytes.length !== 32) return undefined;
  return new Secret(bytes.toString('base64'));
}
