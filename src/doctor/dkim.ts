import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';

/**
 * Gmail treats signatures by keys under 1024 bits as unsigned and recommends 2048
 * (https://support.google.com/a/answer/81126, https://support.google.com/a/answer/174124).
 */
export const DKIM_MIN_BITS = 1024;
export const DKIM_GOOD_BITS = 2048;

/** A DKIM key record (RFC 6376 §3.6.1) as the doctor sees it. */
export type DkimKey = { kind: 'rsa'; bits: number; publicKey: KeyObject } | { kind: 'ed25519' } | { kind: 'revoked' } | { kind: 'invalid'; reason: string };

/** The tag=value list of a DKIM or DMARC record (RFC 6376 §3.2), names lower-cased. */
export function parseTags(text: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim().toLowerCase();
    if (name && !tags.has(name)) tags.set(name, part.slice(eq + 1).trim());
  }
  return tags;
}

/** Whether a TXT string looks like a DKIM key record (and not, say, a site-verification token). */
export function isDkimRecord(text: string): boolean {
  const tags = parseTags(text);
  return tags.has('p') || /^\s*v\s*=\s*DKIM1/i.test(text);
}

/** Reads a key record: the key type, and for RSA the key and its size. */
export function parseDkimKey(text: string): DkimKey {
  const tags = parseTags(text);
  const version = tags.get('v');
  if (version !== undefined && version !== 'DKIM1') return { kind: 'invalid', reason: 'v= is not DKIM1' };
  if (version !== undefined && !/^\s*v\s*=/i.test(text)) return { kind: 'invalid', reason: 'v= must come first' };
  const type = (tags.get('k') ?? 'rsa').toLowerCase();
  const data = tags.get('p');
  if (data === undefined) return { kind: 'invalid', reason: 'it has no p= (public key) tag' };
  const base64 = data.replace(/\s+/g, '');
  if (base64 === '') return { kind: 'revoked' };
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return { kind: 'invalid', reason: 'p= is not base64' };
  const der = Buffer.from(base64, 'base64');
  if (type === 'ed25519') {
    // RFC 8463 §4.2: the raw 32-byte public key.
    return der.length === 32 ? { kind: 'ed25519' } : { kind: 'invalid', reason: 'p= is not a 32-byte Ed25519 key' };
  }
  if (type !== 'rsa') return { kind: 'invalid', reason: `k=${type} is not a key type receivers know` };
  for (const format of ['spki', 'pkcs1'] as const) {
    try {
      const publicKey = createPublicKey({ key: der, format: 'der', type: format });
      if (publicKey.asymmetricKeyType !== 'rsa') return { kind: 'invalid', reason: 'p= is not an RSA key' };
      return { kind: 'rsa', bits: publicKey.asymmetricKeyDetails?.modulusLength ?? 0, publicKey };
    } catch {
      // Most publish SubjectPublicKeyInfo (RFC 6376 §3.6.1); some a bare RSAPublicKey: try both.
    }
  }
  return { kind: 'invalid', reason: 'p= is not an RSA public key' };
}

/** The public half of a PEM private key, as the base64 a DKIM record's p= holds. */
export function publicKeyOf(privateKeyPem: string): string {
  const spki = createPublicKey(createPrivateKey(privateKeyPem)).export({ format: 'der', type: 'spki' });
  return Buffer.from(spki).toString('base64');
}

/** Whether a published key is the public half of `privateKeyPem`. */
export function matchesPrivateKey(published: KeyObject, privateKeyPem: string): boolean {
  const spki = published.export({ format: 'der', type: 'spki' });
  return Buffer.from(spki).toString('base64') === publicKeyOf(privateKeyPem);
}

/** The key record to publish for a private key: `v=DKIM1; k=rsa; p=…`. */
export function dkimRecordFor(privateKeyPem: string): string {
  return `v=DKIM1; k=rsa; p=${publicKeyOf(privateKeyPem)}`;
}
