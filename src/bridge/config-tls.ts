import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { Secret } from '../core/secret.js';
import type { ConfigChecker, Raw } from '../core/validate.js';
import type { BridgeTlsVersion } from './types.js';

export const TLS_VERSIONS: readonly BridgeTlsVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/** The certificate, read and checked, or where a self-signed one is kept. */
export type ResolvedBridgeTls =
  | { kind: 'files'; key: Secret; cert: string; minVersion: BridgeTlsVersion; notAfter?: number }
  | { kind: 'self-signed'; hostnames?: string[]; dir: string; minVersion: BridgeTlsVersion };

/**
 * Reads and checks `tls`: PEM text or files, a key that parses and matches the certificate.
 * Files are read here, at construction, so a wrong path is a CONFIG_INVALID before any socket.
 */
export function parseBridgeTls(check: ConfigChecker, input: Raw, baseDir: string): ResolvedBridgeTls | undefined {
  const raw = check.object(input, 'tls');
  if (!raw) return undefined;
  const at = check.at('tls');
  const minVersion = at.oneOf(raw, 'minVersion', TLS_VERSIONS) ?? 'TLSv1.2';
  if (raw.selfSigned !== undefined) {
    at.unknownKeys(raw, ['selfSigned', 'hostnames', 'dir', 'minVersion']);
    if (raw.selfSigned !== true) at.fail('selfSigned', 'must be true (or leave it out and give key and cert)');
    const hostnames = parseHostnames(at, raw);
    const dir = at.string(raw, 'dir', { nonEmpty: true });
    if (raw.selfSigned !== true) return undefined;
    return { kind: 'self-signed', ...(hostnames ? { hostnames } : {}), dir: dir ? resolve(baseDir, dir) : baseDir, minVersion };
  }
  at.unknownKeys(raw, ['key', 'cert', 'minVersion']);
  if (raw.key === undefined && raw.cert === undefined) {
    check.fail('tls', 'needs key and cert (PEM text or file paths), or selfSigned: true');
    return undefined;
  }
  const keyText = readPemOrFile(at, raw, 'key', baseDir);
  const certText = readPemOrFile(at, raw, 'cert', baseDir);
  if (keyText === undefined || certText === undefined) return undefined;
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(keyText);
  } catch {
    at.fail('key', 'is not a PEM private key');
    return undefined;
  }
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certText);
  } catch {
    at.fail('cert', 'is not a PEM certificate');
    return undefined;
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    at.fail('key', 'does not belong to tls.cert');
    return undefined;
  }
  const notAfter = Date.parse(certificate.validTo);
  return { kind: 'files', key: new Secret(keyText), cert: certText, minVersion, ...(Number.isNaN(notAfter) ? {} : { notAfter }) };
}

function parseHostnames(check: ConfigChecker, raw: Raw): string[] | undefined {
  const value = raw.hostnames;
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string' && /^[A-Za-z0-9.:-]+$/.test(v))) {
    check.fail('hostnames', 'must be a non-empty list of host names or IP addresses');
    return undefined;
  }
  return value as string[];
}

function readPemOrFile(check: ConfigChecker, raw: Raw, key: 'key' | 'cert', baseDir: string): string | undefined {
  const value = check.string(raw, key, { required: true });
  if (value === undefined) return undefined;
  if (value.includes('-----BEGIN ')) return value;
  const path = isAbsolute(value) ? value : resolve(baseDir, value);
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    // The path is not secret; the file's content may be.
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    check.fail(key, `cannot be read from ${path} (${code})`);
    return undefined;
  }
}
