import { GmailTransportError, type ConfigIssue } from '../errors.js';
import { hintFor, type HintKey, type Locale } from '../errors/hints.js';

/** The plain-object type user config arrives as before it is checked. */
export type Raw = Record<string, unknown>;

/**
 * Collects every problem in a config before anything throws, so one CONFIG_INVALID lists them
 * all (from unstorage's createRequiredError and Symfony's IncompleteDsnException). Messages
 * name fields, never values: a value may be a secret.
 */
export class ConfigChecker {
  readonly issues: ConfigIssue[] = [];
  readonly hints: string[] = [];

  constructor(readonly prefix = '') {}

  /** A checker whose paths are relative to `path` and whose issues land here. */
  at(path: string): ConfigChecker {
    const child = new ConfigChecker(this.join(path));
    // Share the arrays so issues found below surface in the root error.
    (child as { issues: ConfigIssue[] }).issues = this.issues;
    (child as { hints: string[] }).hints = this.hints;
    return child;
  }

  join(path: string): string {
    if (!this.prefix) return path;
    return path.startsWith('[') ? `${this.prefix}${path}` : `${this.prefix}.${path}`;
  }

  fail(path: string, message: string, hint?: string): void {
    this.issues.push({ path: this.join(path), message });
    if (hint && !this.hints.includes(hint)) this.hints.push(hint);
  }

  string(obj: Raw, key: string, opts: { required?: boolean; nonEmpty?: boolean } = {}): string | undefined {
    const value = obj[key];
    if (value === undefined || value === null) {
      if (opts.required) this.fail(key, 'is required');
      return undefined;
    }
    if (typeof value !== 'string') {
      this.fail(key, `must be a string, got ${describeType(value)}`);
      return undefined;
    }
    if ((opts.required || opts.nonEmpty) && value.trim() === '') {
      this.fail(key, 'must not be empty');
      return undefined;
    }
    return value;
  }

  boolean(obj: Raw, key: string): boolean | undefined {
    const value = obj[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'boolean') {
      this.fail(key, `must be a boolean, got ${describeType(value)}`);
      return undefined;
    }
    return value;
  }

  integer(obj: Raw, key: string, opts: { min?: number; max?: number; allowInfinity?: boolean } = {}): number | undefined {
    const value = obj[key];
    if (value === undefined) return undefined;
    if (opts.allowInfinity && value === Infinity) return value;
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      this.fail(key, `must be an integer, got ${describeType(value)}`);
      return undefined;
    }
    if (opts.min !== undefined && value < opts.min) {
      this.fail(key, `must be at least ${opts.min}`);
      return undefined;
    }
    if (opts.max !== undefined && value > opts.max) {
      this.fail(key, `must be at most ${opts.max}`);
      return undefined;
    }
    return value;
  }

  oneOf<T extends string>(obj: Raw, key: string, allowed: readonly T[], opts: { required?: boolean } = {}): T | undefined {
    const value = obj[key];
    if (value === undefined) {
      if (opts.required) this.fail(key, `is required (one of ${allowed.map((a) => `'${a}'`).join(', ')})`);
      return undefined;
    }
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
      this.fail(key, `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}`);
      return undefined;
    }
    return value as T;
  }

  object(obj: Raw, key: string, opts: { required?: boolean } = {}): Raw | undefined {
    const value = obj[key];
    if (value === undefined) {
      if (opts.required) this.fail(key, 'is required');
      return undefined;
    }
    if (!isPlainObject(value)) {
      this.fail(key, `must be an object, got ${describeType(value)}`);
      return undefined;
    }
    return value;
  }

  /** Reports keys this level does not know, so a typo (`clientID`) is not silently ignored. */
  unknownKeys(obj: Raw, known: readonly string[]): void {
    for (const key of Object.keys(obj)) {
      if (!known.includes(key)) this.fail(key, 'is not a known option');
    }
  }

  /** Throws one CONFIG_INVALID listing every issue, if there is any. */
  throwIfAny(strategy?: string, locale: Locale = 'en'): void {
    if (this.issues.length === 0) return;
    throw configError(this.issues, this.hints, strategy, locale);
  }
}

/**
 * One CONFIG_INVALID for every issue found. A hint may be literal text or a `CONFIG_INVALID:*`
 * hint key, which is resolved in the config's locale.
 */
export function configError(issues: readonly ConfigIssue[], hints: readonly string[] = [], strategy?: string, locale: Locale = 'en'): GmailTransportError {
  const list = issues.map((i) => `${i.path} ${i.message}`).join('; ');
  const resolvedHints = hints.map((h) => (h.startsWith('CONFIG_INVALID:') ? hintFor(h as HintKey, locale) : h));
  return new GmailTransportError({
    code: 'CONFIG_INVALID',
    message: `Invalid gmail-transport config: ${list}`,
    retryable: false,
    hint: resolvedHints.length > 0 ? resolvedHints.join(' ') : hintFor('CONFIG_INVALID', locale),
    phase: 'config',
    issues,
    ...(strategy ? { strategy } : {}),
  });
}

export function isPlainObject(value: unknown): value is Raw {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

const DOMAIN_NAME = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

/** A fully qualified domain name such as `example.com` (letters, digits and hyphens; no trailing dot). */
export function isDomainName(value: string): boolean {
  return DOMAIN_NAME.test(value);
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/** Whether a host name is a loopback address, where plain http or cleartext is acceptable. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  return LOOPBACK_HOSTS.has(h) || /^127(\.\d{1,3}){3}$/.test(h);
}

/** Checks an endpoint URL: https, or plain http to a loopback address only. */
export function checkEndpointUrl(check: ConfigChecker, obj: Raw, key: string): string | undefined {
  const value = check.string(obj, key, { nonEmpty: true });
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    check.fail(key, 'must be an absolute URL');
    return undefined;
  }
  if (url.protocol === 'https:') return value;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return value;
  check.fail(key, 'must use https (plain http is accepted only for a loopback address)');
  return undefined;
}
