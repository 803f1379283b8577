import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { createTokenCodec } from '../../src/tokens/crypto.js';
import { parseEncryptionKey } from '../../src/tokens/recognize.js';

const TOKEN = { token: 'ya29.FAKE-ACCESS-crypto', expiresAt: 1_900_000_000_000 };
const KEY_A = parseEncryptionKey(randomBytes(32).toString('hex'))!;
const KEY_B = parseEncryptionKey(randomBytes(32).toString('base64'))!;
const STORE_KEY = 'gmail-transport:v1:refresh-token:abc';

describe('token sealing (AES-256-GCM)', () => {
  it('round-trips, with a fresh IV each time and no plaintext in the value', () => {
    const codec = createTokenCodec(KEY_A);
    const one = codec.encode(TOKEN, STORE_KEY);
    const two = codec.encode(TOKEN, STORE_KEY);
    expect(one).not.toBe(two);
    expect(one).not.toContain(TOKEN.token);
    expect(codec.decode(one, STORE_KEY)).toEqual({ ok: true, value: TOKEN });
    expect(codec.decode(two, STORE_KEY)).toEqual({ ok: true, value: TOKEN });
  });

  it('detects another key, a flipped bit anywhere, and a value moved under another store key', () => {
    const sealed = createTokenCodec(KEY_A).encode(TOKEN, STORE_KEY);
    expect(createTokenCodec(KEY_B).decode(sealed, STORE_KEY)).toEqual({ ok: false, reason: 'tampered' });
    const [prefix, iv, body, tag] = sealed.split('.');
    for (const part of [1, 2, 3]) {
      const pieces = [prefix, iv, body, tag] as string[];
      const bytes = Buffer.from(pieces[part]!, 'base64url');
      bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0x80;
      pieces[part] = bytes.toString('base64url');
      expect(createTokenCodec(KEY_A).decode(pieces.join('.'), STORE_KEY).ok).toBe(false);
    }
    expect(createTokenCodec(KEY_A).decode(sealed, `${STORE_KEY}x`)).toEqual({ ok: false, reason: 'tampered' });
  });

  it('refuses a plain value when a key is set, and a sealed one when none is', () => {
    const plain = createTokenCodec().encode(TOKEN, STORE_KEY);
    expect(JSON.parse(plain)).toEqual({ v: 1, ...TOKEN });
    expect(createTokenCodec(KEY_A).decode(plain, STORE_KEY)).toEqual({ ok: false, reason: 'not-sealed' });
    expect(createTokenCodec().decode(createTokenCodec(KEY_A).encode(TOKEN, STORE_KEY), STORE_KEY)).toEqual({ ok: false, reason: 'sealed-without-key' });
  });

  it('anything else is malformed, never a throw', () => {
    const codec = createTokenCodec();
    for (const raw of [undefined, 42, {}, 'not json', '{"v":2,"token":"t","expiresAt":1}', '{"v":1,"token":"","expiresAt":1}', '{"v":1,"token":"t"}']) {
      expect(codec.decode(raw, STORE_KEY)).toEqual({ ok: false, reason: 'malformed' });
    }
    expect(createTokenCodec(KEY_A).decode('gt1.a.b', STORE_KEY)).toEqual({ ok: false, reason: 'malformed' });
    expect(createTokenCodec(KEY_A).decode('gt1.AAAA.AAAA.AAAA', STORE_KEY)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('accepts a 32-byte key as hex, base64, base64url or bytes, and nothing else', () => {
    const bytes = randomBytes(32);
    const forms = [bytes.toString('hex'), bytes.toString('base64'), bytes.toString('base64url'), new Uint8Array(bytes)];
    const parsed = forms.map((f) => parseEncryptionKey(f)?.reveal());
    expect(new Set(parsed)).toEqual(new Set([bytes.toString('base64')]));
    for (const bad of ['', 'short', randomBytes(16).toString('hex'), randomBytes(31).toString('base64'), randomBytes(33), 42, null]) {
      expect(parseEncryptionKey(bad)).toBeUndefined();
    }
    expect(String(parseEncryptionKey(bytes))).toBe('[redacted]');
  });
});
