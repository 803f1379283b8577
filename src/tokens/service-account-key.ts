import { readFileSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';
import { Secret } from '../core/secret.js';
import { isPlainObject, describeType, type ConfigChecker, type Raw } from '../core/validate.js';

/** The JSON key Google Cloud console downloads for a service account (fields we use). */
export interface ServiceAccountKey {
  type?: 'service_account';
  client_email: string;
  private_key: string;
  [field: string]: unknown;
}

/** What a service account signs its JWT-bearer assertions with. */
export interface ParsedServiceAccount {
  clientEmail: string;
  privateKey: Secret;
}

/**
 * Reads `serviceAccount` (the parsed JSON key, or its text) or `keyFile` (a path) and checks
 * the key before any network: the field names are reported, never a value, since the JSON
 * holds a private key.
 */
export function parseServiceAccount(check: ConfigChecker, input: Raw): ParsedServiceAccount | undefined {
  // null means unset, as everywhere in the config (ConfigChecker.string).
  const inline = input.serviceAccount ?? undefined;
  const keyFile = input.keyFile ?? undefined;
  if (inline !== undefined && keyFile !== undefined) {
    check.fail('keyFile', 'cannot be combined with serviceAccount: give one of them');
    return undefined;
  }
  if (inline === undefined && keyFile === undefined) {
    check.fail('serviceAccount', 'is required (the JSON key of the service account, or keyFile with its path)');
    return undefined;
  }
  if (keyFile !== undefined) {
    const path = check.string(input, 'keyFile', { nonEmpty: true });
    if (path === undefined) return undefined;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      check.fail('keyFile', `cannot be read${typeof code === 'string' ? ` (${code})` : ''}`);
      return undefined;
    }
    return fromJsonText(check, 'keyFile', text);
  }
  if (typeof inline === 'string') return fromJsonText(check, 'serviceAccount', inline);
  if (!isPlainObject(inline)) {
    check.fail('serviceAccount', `must be the service account's JSON key (an object or its text), got ${describeType(inline)}`);
    return undefined;
  }
  return fromKey(check, 'serviceAccount', inline);
}

function fromJsonText(check: ConfigChecker, field: string, text: string): ParsedServiceAccount | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    check.fail(field, 'is not valid JSON (expected the key file downloaded from Google Cloud console)');
    return undefined;
  }
  if (!isPlainObject(parsed)) {
    check.fail(field, 'must hold a JSON object (the service account key)');
    return undefined;
  }
  return fromKey(check, field, parsed);
}

function fromKey(check: ConfigChecker, field: string, key: Raw): ParsedServiceAccount | undefined {
  const at = check.at(field);
  if (key.type !== undefined && key.type !== 'service_account') {
    // An OAuth client JSON ("installed"/"web") or an authorized-user file is a common mix-up.
    at.fail('type', "must be 'service_account' (this looks like another kind of Google credentials file)");
    return undefined;
  }
  const clientEmail = at.string(key, 'client_email', { required: true });
  if (clientEmail !== undefined && !/^[^\s@]+@[^\s@]+$/.test(clientEmail)) at.fail('client_email', 'must be the service account e-mail address');
  const privateKey = at.string(key, 'private_key', { required: true });
  let validKey = false;
  if (privateKey !== undefined) {
    try {
      const parsed = createPrivateKey(privateKey);
      validKey = parsed.asymmetricKeyType === 'rsa';
      if (!validKey) at.fail('private_key', 'must be an RSA private key (Google signs service account assertions with RS256)');
    } catch {
      at.fail('private_key', 'is not a PEM private key (copy the whole key, with its BEGIN/END lines and \\n line breaks)');
    }
  }
  if (clientEmail === undefined || !/^[^\s@]+@[^\s@]+$/.test(clientEmail) || privateKey === undefined || !validKey) return undefined;
  return { clientEmail, privateKey: new Secret(privateKey) };
}
