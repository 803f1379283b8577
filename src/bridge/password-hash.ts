import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** scrypt parameters, stored inside every hash so old hashes keep verifying after a change. */
export interface ScryptParams {
  /** log2 of the CPU/memory cost N. */
  logN: number;
  /** Block size. */
  r: number;
  /** Parallelisation. */
  p: number;
}

/** A parsed password hash. */
export interface ParsedPasswordHash extends ScryptParams {
  salt: Buffer;
  hash: Buffer;
}

/**
 * OWASP Password Storage Cheat Sheet, scrypt: N=2^17/r=8/p=1 or an equivalent trade of memory for
 * parallelism. N=2^15, r=8, p=3 is one of its listed equivalents at 32 MiB per hash instead of
 * 128 MiB: a bridge on a small NAS verifies several logins at once on libuv's 4 threads.
 */
export const DEFAULT_SCRYPT: Readonly<ScryptParams> = Object.freeze({ logN: 15, r: 8, p: 3 });

/**
 * Below this work factor (N·p at r=8) a hash is weaker than every configuration OWASP lists
 * (2^17·1, 2^16·2, 2^15·3, 2^14·5, 2^13·10; the smallest product is 2^13·10).
 */
const RECOMMENDED_WORK = 2 ** 13 * 10;

const SALT_BYTES = 16;
const KEY_BYTES = 32;
const PREFIX = '$scrypt$';

// PHC string format (https://github.com/P-H-C/phc-string-format): $scrypt$ln=15,r=8,p=3$<salt>$<hash>,
// salt and hash in unpadded base64. Self-describing: parameters and salt travel with the hash.
const FORMAT = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]{16,88})\$([A-Za-z0-9+/]{43,88})$/;

/**
 * Hashes a device password for a bridge account (`accounts[].passwordHash`). The result is a
 * self-describing PHC string: `$scrypt$ln=15,r=8,p=3$<salt>$<hash>`.
 *
 * @example
 * ```ts
 * const passwordHash = await hashPassword('printer-password-from-a-generator');
 * ```
 */
export function hashPassword(password: string): Promise<string> {
  return hashPasswordWith(password, DEFAULT_SCRYPT);
}

/** {@link hashPassword} with explicit parameters (tests use cheap ones to stay fast). */
export async function hashPasswordWith(password: string, params: ScryptParams): Promise<string> {
  if (typeof password !== 'string' || password.length === 0) throw new TypeError('password must be a non-empty string');
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, params, KEY_BYTES);
  return `${PREFIX}ln=${params.logN},r=${params.r},p=${params.p}$${b64(salt)}$${b64(hash)}`;
}

/** Parses a hash string; `undefined` when it is not one of ours or its parameters are out of range. */
export function parsePasswordHash(value: string): ParsedPasswordHash | undefined {
  const match = FORMAT.exec(value.trim());
  if (!match) return undefined;
  const [, ln, r, p, salt, hash] = match as unknown as [string, string, string, string, string, string];
  const params = { logN: Number(ln), r: Number(r), p: Number(p) };
  // Bounds keep a hand-edited hash from asking for gigabytes per login.
  if (params.logN < 10 || params.logN > 20 || params.r < 1 || params.r > 32 || params.p < 1 || params.p > 16) return undefined;
  const saltBytes = Buffer.from(salt, 'base64');
  const hashBytes = Buffer.from(hash, 'base64');
  if (saltBytes.length < 8 || hashBytes.length < 32) return undefined;
  return { ...params, salt: saltBytes, hash: hashBytes };
}

/** Whether a hash's parameters reach OWASP's recommended work factor. */
export function meetsRecommendation(params: ScryptParams): boolean {
  return 2 ** params.logN * params.p * (params.r / 8) >= RECOMMENDED_WORK;
}

/**
 * Checks a password against a parsed hash. The comparison is constant-time
 * (crypto.timingSafeEqual), so the reply time does not reveal how much of the hash matched.
 */
export async function verifyPassword(password: string, stored: ParsedPasswordHash): Promise<boolean> {
  const candidate = await derive(password, stored.salt, stored, stored.hash.length);
  return timingSafeEqual(candidate, stored.hash);
}

function derive(password: string, salt: Buffer, params: ScryptParams, length: number): Promise<Buffer> {
  const N = 2 ** params.logN;
  // scrypt needs 128·N·r bytes for V plus 128·r·p for B; Node refuses anything over `maxmem`
  // (32 MiB by default), which N=2^15, r=8 already reaches.
  const options: ScryptOptions = { N, r: params.r, p: params.p, maxmem: 128 * N * params.r + 128 * params.r * params.p + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, length, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function b64(bytes: Buffer): string {
  return bytes.toString('base64').replace(/=+$/, '');
}
