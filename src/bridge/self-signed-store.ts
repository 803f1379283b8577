import { mkdir, readFile, writeFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { isIP } from 'node:net';
import { configError } from '../core/validate.js';
import { generateSelfSignedCertificate } from './self-signed.js';
import type { ResolvedBridgeConfig } from './config.js';
import type { ResolvedBridgeTls } from './config-tls.js';

export const SELF_SIGNED_CERT_FILE = 'gmail-transport-bridge.crt';
export const SELF_SIGNED_KEY_FILE = 'gmail-transport-bridge.key';

export interface StoredCertificate {
  key: string;
  cert: string;
  certPath: string;
  /** SHA-256 fingerprint, what a device that pins the certificate shows. */
  fingerprint: string;
  created: boolean;
}

/**
 * The self-signed certificate kept beside the config: read when it exists, generated and
 * written once when it does not. Keeping it is the point: a device that pinned or imported the
 * certificate would refuse a new one after every restart.
 *
 * @throws GmailTransportError `CONFIG_INVALID` when only one of the two files exists, or they do not match.
 */
export async function loadOrCreateSelfSigned(
  tls: Extract<ResolvedBridgeTls, { kind: 'self-signed' }>,
  config: ResolvedBridgeConfig,
): Promise<StoredCertificate> {
  const certPath = join(tls.dir, SELF_SIGNED_CERT_FILE);
  const keyPath = join(tls.dir, SELF_SIGNED_KEY_FILE);
  const [cert, key] = await Promise.all([readIfExists(certPath), readIfExists(keyPath)]);
  if (cert !== undefined && key !== undefined) return { ...checked(cert, key, certPath), created: false };
  if (cert !== undefined || key !== undefined) {
    throw configError([
      {
        path: 'tls.selfSigned',
        message: `found ${cert !== undefined ? certPath : keyPath} but not ${cert !== undefined ? keyPath : certPath}: restore the missing file, or delete both to generate a new certificate (devices that pinned the old one must then be updated)`,
      },
    ]);
  }
  const made = await generateSelfSignedCertificate({ names: certificateNames(tls, config) });
  await mkdir(tls.dir, { recursive: true });
  // Written under temporary names and renamed: a crash in between never leaves a half file.
  const suffix = `.${process.pid}.tmp`;
  await writeFile(keyPath + suffix, made.key, { mode: 0o600, flag: 'wx' });
  await writeFile(certPath + suffix, made.cert, { mode: 0o644, flag: 'wx' });
  try {
    await rename(keyPath + suffix, keyPath);
    await rename(certPath + suffix, certPath);
  } catch (err) {
    await Promise.all([unlink(keyPath + suffix).catch(() => undefined), unlink(certPath + suffix).catch(() => undefined)]);
    throw err;
  }
  return { ...checked(made.cert, made.key, certPath), created: true };
}

function certificateNames(tls: Extract<ResolvedBridgeTls, { kind: 'self-signed' }>, config: ResolvedBridgeConfig): string[] {
  if (tls.hostnames) return tls.hostnames;
  const host = config.listen.host;
  const bound = host !== '0.0.0.0' && host !== '::' ? [host] : [];
  return [...new Set([config.hostname, ...bound, 'localhost', '127.0.0.1', '::1'])].filter((n) => isIP(n) !== 0 || /^[A-Za-z0-9.-]+$/.test(n));
}

function checked(cert: string, key: string, certPath: string): Omit<StoredCertificate, 'created'> {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
    if (!x509.checkPrivateKey(createPrivateKey(key))) throw new Error('mismatch');
  } catch {
    throw configError([{ path: 'tls.selfSigned', message: `${certPath} and its key do not form a valid pair: delete both to generate a new certificate` }]);
  }
  return { key, cert, certPath, fingerprint: x509.fingerprint256 };
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
