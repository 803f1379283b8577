import { createPrivateKey } from 'node:crypto';
import { Secret } from '../core/secret.js';
import type { ResolvedDkim } from '../core/config.js';
import { isDomainName, type ConfigChecker, type Raw } from '../core/validate.js';

const SELECTOR = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** Whether `value` can be a DKIM selector (one or more DNS labels). */
export function isDkimSelector(value: string): boolean {
  return SELECTOR.test(value);
}

/** nodemailer signs RSA-SHA256 only; Gmail treats signatures by keys under 1024 bits as absent. */
const MIN_BITS = 1024;

/** Checks the `dkim` option of a config (or of a doctor route), reporting each field by name. */
export function parseDkim(check: ConfigChecker, input: Raw): ResolvedDkim | undefined {
  const raw = check.object(input, 'dkim');
  if (!raw) return undefined;
  const at = check.at('dkim');
  at.unknownKeys(raw, ['domainName', 'keySelector', 'privateKey']);
  const domainName = at.string(raw, 'domainName', { required: true });
  if (domainName !== undefined && !isDomainName(domainName)) at.fail('domainName', 'must be a domain name such as example.com');
  const keySelector = at.string(raw, 'keySelector', { required: true });
  if (keySelector !== undefined && !SELECTOR.test(keySelector)) at.fail('keySelector', 'must be a DNS label such as mail2026 (letters, digits, hyphens, dots)');
  const text = at.string(raw, 'privateKey', { required: true });
  const privateKey = text === undefined ? undefined : checkPrivateKey(at, normalizePem(text));
  if (!domainName || !isDomainName(domainName) || !keySelector || !SELECTOR.test(keySelector) || !privateKey) return undefined;
  return Object.freeze({ domainName: domainName.toLowerCase(), keySelector, privateKey });
}

function normalizePem(text: string): string {
  return !text.includes('\n') && text.includes('\\n') ? text.replace(/\\n/g, '\n') : text;
}

function checkPrivateKey(at: ConfigChecker, pem: string): Secret | undefined {
  let bits: number | undefined;
  let type: string | undefined;
  try {
    const key = createPrivateKey(pem);
    type = key.asymmetricKeyType;
    bits = key.asymmetricKeyDetails?.modulusLength;
  } catch {
    at.fail('privateKey', 'is not a PEM private key (copy the whole key with its BEGIN/END lines)');
    return undefined;
  }
  if (type !== 'rsa') {
    at.fail('privateKey', 'must be an RSA key (nodemailer signs with RSA-SHA256)');
    return undefined;
  }
  if (bits === undefined || bits < MIN_BITS) {
    at.fail('privateKey', `must be at least ${MIN_BITS} bits (2048 recommended)`);
    return undefined;
  }
  return new Secret(pem);
}
