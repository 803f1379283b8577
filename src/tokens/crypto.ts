import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Secret } from '../core/secret.js';

/** A token as it travels to and from a store. */
export interface StoredToken {
  token: string;
  /** Epoch ms. */
  expiresAt: number;
}

/** Why a stored value could not be used; each is a cache miss plus a `warning`. */
export type DecodeFailure = 'tampered' | 'not-sealed' | 'sealed-without-key' | 'malformed';

/** A decoded store value, or why it cannot be used. */
export type DecodeResult = { ok: true; value: StoredToken } | { ok: false; reason: DecodeFailure };

/** Turns tokens into store values and back, sealed with AES-256-GCM when a key is set. */
export interface TokenCodec {
  readonly sealed: boolean;
  encode(token: StoredToken, storeKey: string): string;
  decode(raw: unknown, storeKey: string): DecodeResult;
}

const SEALED_PREFIX = 'gt1.';
const IV_BYTES = 12; // the GCM nonce size NIST SP 800-38D recommends
const TAG_BYTES = 16;

/**
 * The codec for one provider. With a key, values are `gt1.<iv>.<ciphertext>.<tag>` (base64url)
 * and the store key is bound in as additional authenticated data, so a value copied under
 * another key fails too. A plain value where a sealed one is expected is refused: whoever can
 * write to the store must not be able to slip us a token of their choosing.
 */
export function createTokenCodec(key?: Secret): TokenCodec {
  const keyBytes = key ? () => Buffer.from(key.reveal(), 'base64') : undefined;
  return {
    sealed: Boolean(keyBytes),
    encode(token, storeKey) {
      const plain = JSON.stringify({ v: 1, token: token.token, expiresAt: token.expiresAt });
      if (!keyBytes) return plain;
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', keyBytes(), iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(storeKey, 'utf8'));
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return `${SEALED_PREFIX}${iv.toString('base64url')}.${body.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`;
    },
    decode(raw, storeKey) {
      if (typeof raw !== 'string') return { ok: false, reason: 'malformed' };
      const isSealed = raw.startsWith(SEALED_PREFIX);
      if (!keyBytes) return isSealed ? { ok: false, reason: 'sealed-without-key' } : parsePlain(raw);
      if (!isSealed) return { ok: false, reason: 'not-sealed' };
      const parts = raw.slice(SEALED_PREFIX.length).split('.');
      if (parts.length !== 3) return { ok: false, reason: 'malformed' };
      const [iv, body, tag] = parts.map((p) => Buffer.from(p, 'base64url')) as [Buffer, Buffer, Buffer];
      if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) return { ok: false, reason: 'malformed' };
      let plain: string;
      try {
        const decipher = createDecipheriv('aes-256-gcm', keyBytes(), iv, { authTagLength: TAG_BYTES });
        decipher.setAAD(Buffer.from(storeKey, 'utf8'));
        decipher.setAuthTag(tag);
        plain = Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
      } catch {
        // GCM's tag check failed: another key, or the value was altered.
        return { ok: false, reason: 'tampered' };
      }
      return parsePlain(plain);
    },
  };
}

function parsePlain(text: string): DecodeResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const value = parsed as { v?: unknown; token?: unknown; expiresAt?: unknown } | null;
  if (
    !value ||
    value.v !== 1 ||
    typeof value.token !== 'string' ||
    value.token === '' ||
    typeof value.expiresAt !== 'number' ||
    !Number.isFinite(value.expiresAt)
  ) {
    return { ok: false, reason: 'malformed' };
  }
  return { ok: true, value: { token: value.token, expiresAt: value.expiresAt } };
}
