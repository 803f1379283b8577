import { GmailTransportError, type ConfigIssue } from '../errors/error.js';
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

  /**
   * Records a problem. `hint` (literal text, or a `CONFIG_INVALID:*` hint key resolved in the
   * config's locale) is this issue's own, and is also shown as the error's hint; without one,
   * the issue gets the generic hint for a field whose message says what to change.
   */
  fail(path: string, message: string, hint?: string): void {
    this.issues.push({ path: this.join(path), message, hint: hint ?? 'CONFIG_INVALID:field' });
    if (hint && !this.hints.includes(hint)) this.hints.push(hint);
  }

  /** A problem of a common kind (a wrong type, a missing field): its hint is the kind's, issue only. */
  #failAs(kind: IssueKind, path: string, message: string): void {
    this.issues.push({ path: this.join(path), message, hint: `CONFIG_INVALID:${kind}` });
  }

  string(obj: Raw, key: string, opts: { required?: boolean; nonEmpty?: boolean } = {}): string | undefined {
    const value = obj[key];
    if (value === undefined || value === null) {
      if (opts.required) this.#failAs('required', key, 'is required');
      return undefined;
    }
    if (typeof value !== 'string') {
      this.#failAs('type-string', key, `must be a string, got ${describeType(value)}`);
      return undefined;
    }
    if ((opts.required || opts.nonEmpty) && value.trim() === '') {
      this.#failAs('not-empty', key, 'must not be empty');
      return undefined;
    }
    return value;
  }

  boolean(obj: Raw, key: string): boolean | undefined {
    const value = obj[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'boolean') {
      this.#failAs('type-boolean', key, `must be a boolean, got ${describeType(value)}`);
      return undefined;
    }
    return value;
  }

  integer(obj: Raw, key: string, opts: { min?: number; max?: number; allowInfinity?: boolean } = {}): number | undefined {
    const value = obj[key];
    if (value === undefined) return undefined;
    if (opts.allowInfinity && value === Infinity) return value;
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      this.#failAs('type-integer', key, `must be an integer, got ${describeType(value)}`);
      return undefined;
    }
    if (opts.min !== undefined && value < opts.min) {
      this.#failAs('range', key, `must be at least ${opts.min}`);
      return undefined;
    }
    if (opts.max !== undefined && value > opts.max) {
      this.#failAs('range', key, `must be at most ${opts.max}`);
      return undefined;
    }
    return value;
  }

  oneOf<T extends string>(obj: Raw, key: string, allowed: readonly T[], opts: { required?: boolean } = {}): T | undefined {
    const value = obj[key];
    if (value === undefined) {
      if (opts.required) this.#failAs('required', key, `is required (one of ${allowed.map((a) => `'${a}'`).join(', ')})`);
      return undefined;
    }
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
      // Only a suggestion from the allowed list is shown, never the value given.
      const suggestion = typeof value === 'string' ? closest(value, allowed) : undefined;
      this.#failAs('one-of', key, `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}${suggestion ? `: did you mean '${suggestion}'?` : ''}`);
      return undefined;
    }
    return value as T;
  }

  object(obj: Raw, key: string, opts: { required?: boolean } = {}): Raw | undefined {
    const value = obj[key];
    if (value === undefined) {
      if (opts.required) this.#failAs('required', key, 'is required');
      return undefined;
    }
    if (!isPlainObject(value)) {
      this.#failAs('type-object', key, `must be an object, got ${describeType(value)}`);
      return undefined;
    }
    return value;
  }

  /** Takes over the issues of a nested config checked on its own, under `path`, hints kept. */
  include(path: string, issues: readonly ConfigIssue[]): void {
    for (const issue of issues)
      this.issues.push({ path: this.join(`${path}.${issue.path}`), message: issue.message, ...(issue.hint ? { hint: issue.hint } : {}) });
  }

  /** Reports keys this level does not know, so a typo (`clientID`) is not silently ignored. */
  unknownKeys(obj: Raw, known: readonly string[]): void {
    for (const key of Object.keys(obj)) {
      if (known.includes(key)) continue;
      const suggestion = closest(
        key,
        known.filter((k) => obj[k] === undefined),
      );
      this.#failAs('unknown-key', key, `is not a known option${suggestion ? `: did you mean ${suggestion}?` : ''}`);
    }
  }

  /** Throws one CONFIG_INVALID listing every issue, if there is any. */
  throwIfAny(strategy?: string, locale: Locale = 'en', hint?: HintKey): void {
    if (this.issues.length === 0) return;
    throw configError(this.issues, this.hints, strategy, locale, hint);
  }
}

/** Kinds of problem the checker finds itself, each with a hint of its own (errors/hints.ts). */
type IssueKind = 'required' | 'not-empty' | 'type-string' | 'type-boolean' | 'type-integer' | 'type-object' | 'range' | 'one-of' | 'unknown-key';

/**
 * One CONFIG_INVALID for every issue found. A hint may be literal text or a `CONFIG_INVALID:*`
 * hint key, which is resolved in the config's locale. Every issue leaves with a hint: its own,
 * else `hints` (what the caller knows of all of them, e.g. how references work), else the
 * generic one. The error's own hint is `hints`, or else the generic `hint` key's.
 */
export function configError(
  issues: readonly ConfigIssue[],
  hints: readonly string[] = [],
  strategy?: string,
  locale: Locale = 'en',
  hint: HintKey = 'CONFIG_INVALID',
): GmailTransportError {
  const resolve = (h: string) => (h.startsWith('CONFIG_INVALID:') ? hintFor(h as HintKey, locale) : h);
  const list = issues.map((i) => `${i.path} ${i.message}`).join('; ');
  const resolvedHints = hints.map(resolve);
  const shared = resolvedHints.length > 0 ? resolvedHints.join(' ') : undefined;
  return new GmailTransportError({
    code: 'CONFIG_INVALID',
    message: `Invalid gmail-transport config: ${list}`,
    retryable: false,
    hint: shared ?? hintFor(hint, locale),
    phase: 'config',
    issues: issues.map((issue) => ({
      path: issue.path,
      message: issue.message,
      hint: issue.hint ? resolve(issue.hint) : (shared ?? hintFor('CONFIG_INVALID:field', locale)),
    })),
    ...(strategy ? { strategy } : {}),
  });
}

/**
 * The allowed name closest to `given`, for "did you mean": the same but for case and
 * separators (`app_password`, `clientID`), or at most two edits away.
 */
export function closest(given: string, allowed: readonly string[]): string | undefined {
  const plain = (text: string) => text.toLowerCase().replace(/[-_\s]/g, '');
  const exact = allowed.find((candidate) => plain(candidate) === plain(given));
  if (exact) return exact;
  let best: { name: string; distance: number } | undefined;
  for (const candidate of allowed) {
    const distance = editDistance(plain(given), plain(candidate));
    if (distance <= Math.min(2, Math.floor(candidate.length / 3)) && (!best || distance < best.distance)) best = { name: candidate, distance };
  }
  return best?.name;
}

/** Edits (insert, delete, replace, swap two neighbours) from `a` to `b`; 3 means "3 or more". */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, rows[i - 2]![j - 2]! + 1);
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
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
