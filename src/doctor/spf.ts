import { isIP } from 'node:net';
import type { DnsSource } from './dns.js';

/** RFC 7208 §4.6.4: at most 10 mechanisms and modifiers that ask DNS, the whole tree counted. */
export const SPF_LOOKUP_LIMIT = 10;

export type SpfQualifier = '+' | '-' | '~' | '?';

/** One directive or modifier of an SPF record. */
export interface SpfTerm {
  /** `all`, `include`, `a`, `mx`, `ptr`, `ip4`, `ip6`, `exists`, or `redirect` / `exp` / another modifier name. */
  name: string;
  qualifier: SpfQualifier;
  /** The domain-spec or address after `:` or `=`, if any. */
  value?: string;
  modifier: boolean;
  /** The term as written. */
  raw: string;
}

/** A parsed record: its terms, or why it is not valid (a permerror). */
export interface SpfRecord {
  text: string;
  terms: SpfTerm[];
  /** Syntax problems, each naming the term (RFC 7208 §4.6: any of them is a permerror). */
  errors: string[];
}

const MECHANISMS = new Set(['all', 'include', 'a', 'mx', 'ptr', 'ip4', 'ip6', 'exists']);
const COUNTED = new Set(['include', 'a', 'mx', 'ptr', 'exists', 'redirect']);
/** A domain-spec: labels, or macros (`%{d}`), which cannot be followed without a message. */
const DOMAIN_SPEC = /^(?:[a-z0-9_-]|%\{[a-z]\d*r?[-.+,/_=]*\}|%[%_-]|\.)+$/i;

/** Whether a TXT string is an SPF record: `v=spf1` then a space or the end (RFC 7208 §4.5). */
export function isSpfRecord(text: string): boolean {
  return /^v=spf1(?: |$)/i.test(text.trim());
}

/** Parses one SPF record (RFC 7208 §4.6.1, §12), collecting every syntax error. */
export function parseSpf(text: string): SpfRecord {
  const terms: SpfTerm[] = [];
  const errors: string[] = [];
  const parts = text.trim().split(/ +/).slice(1);
  const seenModifiers = new Set<string>();
  for (const part of parts) {
    const modifier = /^([a-z][a-z0-9_.-]*)=(.*)$/i.exec(part);
    if (modifier) {
      const name = modifier[1]!.toLowerCase();
      const value = modifier[2]!;
      if ((name === 'redirect' || name === 'exp') && seenModifiers.has(name)) errors.push(`${name}= appears twice`);
      if ((name === 'redirect' || name === 'exp') && !DOMAIN_SPEC.test(value)) errors.push(`${name}= needs a domain`);
      seenModifiers.add(name);
      terms.push({ name, qualifier: '+', value, modifier: true, raw: part });
      continue;
    }
    const match = /^([+\-~?]?)([a-z0-9]+)(?:([:/])(.*))?$/i.exec(part);
    const name = match?.[2]?.toLowerCase();
    if (!match || !name || !MECHANISMS.has(name)) {
      errors.push(`unknown term "${part}"`);
      continue;
    }
    const qualifier = (match[1] || '+') as SpfQualifier;
    const separator = match[3];
    const rest = match[4] ?? '';
    const term: SpfTerm = { name, qualifier, modifier: false, raw: part };
    const problem = checkMechanism(name, separator, rest, term);
    if (problem) errors.push(`${part}: ${problem}`);
    else terms.push(term);
  }
  return { text, terms, errors };
}

function checkMechanism(name: string, separator: string | undefined, rest: string, term: SpfTerm): string | undefined {
  switch (name) {
    case 'all':
      return separator ? 'takes no argument' : undefined;
    case 'include':
    case 'exists':
      if (separator !== ':' || !DOMAIN_SPEC.test(rest)) return 'needs a domain';
      term.value = rest;
      return undefined;
    case 'ptr':
      if (separator === '/') return 'takes no prefix length';
      if (separator === ':') {
        if (!DOMAIN_SPEC.test(rest)) return 'needs a domain';
        term.value = rest;
      }
      return undefined;
    case 'a':
    case 'mx': {
      const full = separator ? `${separator}${rest}` : '';
      const m = /^(?::([^/]+))?(?:\/(\d+))?(?:\/\/(\d+))?$/.exec(full);
      if (!m) return 'is not valid';
      if (m[1] !== undefined && !DOMAIN_SPEC.test(m[1])) return 'needs a domain';
      if (m[2] !== undefined && Number(m[2]) > 32) return 'has an IPv4 prefix length over 32';
      if (m[3] !== undefined && Number(m[3]) > 128) return 'has an IPv6 prefix length over 128';
      if (m[1] !== undefined) term.value = m[1];
      return undefined;
    }
    case 'ip4':
    case 'ip6': {
      if (separator !== ':') return 'needs an address';
      const [address = '', length, extra] = rest.split('/');
      const version = name === 'ip4' ? 4 : 6;
      if (extra !== undefined || isIP(address) !== version) return `needs an IPv${version} address`;
      if (length !== undefined && (!/^\d+$/.test(length) || Number(length) > (version === 4 ? 32 : 128))) return 'has a prefix length out of range';
      term.value = rest;
      return undefined;
    }
  }
  return 'is not valid';
}

/** A record at one name, as found in DNS. */
export type SpfAt = { kind: 'none' } | { kind: 'one'; record: SpfRecord } | { kind: 'many'; records: string[] } | { kind: 'failed'; code: string };

/** The SPF record of a domain (RFC 7208 §4.5: none, one, or several, which is a permerror). */
export async function fetchSpf(dns: DnsSource, domain: string): Promise<SpfAt> {
  const answer = await dns.txt(domain);
  if (answer.kind === 'failed') return { kind: 'failed', code: answer.code };
  if (answer.kind === 'missing') return { kind: 'none' };
  const records = answer.value.filter(isSpfRecord);
  if (records.length === 0) return { kind: 'none' };
  if (records.length > 1) return { kind: 'many', records };
  return { kind: 'one', record: parseSpf(records[0]!) };
}

/** What following a record's includes and redirect found. */
export interface SpfWalk {
  /** DNS-querying terms in the tree (include, a, mx, ptr, exists, redirect). */
  lookups: number;
  /** Domains pulled in by a pass-qualified include or a redirect that is in effect. */
  authorised: Set<string>;
  /** Problems that make evaluation a permerror (missing or invalid nested record, a loop). */
  errors: string[];
  /** Names that could not be looked up (resolver failures): the count is then a lower bound. */
  unresolved: string[];
  /** The `all` that ends evaluation, following redirect; undefined when there is none. */
  all?: SpfQualifier;
}

/**
 * Follows a record's includes and redirect the way a receiver evaluating it would, counting
 * each DNS-querying term against the limit of 10 (RFC 7208 §4.6.4, §5.2, §6.1). Terms after
 * `all` are never reached, and neither is a redirect beside an `all`, so neither counts nor
 * authorises anything. Stops descending past 20 levels or at a loop.
 */
export async function walkSpf(dns: DnsSource, domain: string, record: SpfRecord): Promise<SpfWalk> {
  const walk: SpfWalk = { lookups: 0, authorised: new Set(), errors: [], unresolved: [] };
  const top = await visit(dns, record, walk, [domain.toLowerCase()], true);
  if (top !== undefined) walk.all = top;
  return walk;
}

async function visit(dns: DnsSource, record: SpfRecord, walk: SpfWalk, path: string[], top: boolean): Promise<SpfQualifier | undefined> {
  const reached: SpfTerm[] = [];
  let all: SpfQualifier | undefined;
  for (const term of record.terms) {
    if (term.modifier) continue;
    reached.push(term);
    if (term.name === 'all') {
      all = term.qualifier;
      break;
    }
  }
  const redirect = all === undefined ? record.terms.find((t) => t.modifier && t.name === 'redirect') : undefined;
  for (const term of redirect ? [...reached, redirect] : reached) {
    if (!COUNTED.has(term.name)) continue;
    walk.lookups += 1;
    if (term.name !== 'include' && term.name !== 'redirect') continue;
    const target = (term.value ?? '').toLowerCase().replace(/\.$/, '');
    if (target.includes('%')) continue;
    if (term.name === 'include' && term.qualifier === '+') walk.authorised.add(target);
    if (term.name === 'redirect') walk.authorised.add(target);
    if (path.includes(target) || path.length > 20) {
      walk.errors.push(`${term.name} ${target} loops back`);
      continue;
    }
    const nested = await fetchSpf(dns, target);
    if (nested.kind === 'failed') {
      walk.unresolved.push(target);
      continue;
    }
    if (nested.kind !== 'one') {
      // §5.2 and §6.1: an include or redirect to a domain with no (single) record is a permerror.
      walk.errors.push(`${term.name}:${target} ${nested.kind === 'none' ? 'has no SPF record' : 'has several SPF records'}`);
      continue;
    }
    if (nested.record.errors.length > 0) walk.errors.push(`${target}: ${nested.record.errors.join('; ')}`);
    const nestedAll = await visit(dns, nested.record, walk, [...path, target], false);
    // The result of a redirect is the result of the target record, its `all` included.
    if (term.name === 'redirect' && top) all = nestedAll;
    else if (term.name === 'redirect') return nestedAll;
  }
  return all;
}

/**
 * The record to publish instead: `record`'s terms with `include:<each of includes>` added
 * before its `all` (or redirect), a neutral or permissive `all` replaced with `~all`, and one
 * `~all` appended when it has neither.
 */
export function spfWith(record: SpfRecord | undefined, includes: readonly string[]): string {
  const terms = record ? record.terms.map((t) => t.raw) : [];
  const present = new Set(terms.map((t) => t.toLowerCase().replace(/^\+/, '')));
  const add = includes.map((d) => `include:${d}`).filter((t) => !present.has(t.toLowerCase()));
  const allIndex = terms.findIndex((t) => /^[+\-~?]?all$/i.test(t));
  const redirectIndex = terms.findIndex((t) => /^redirect=/i.test(t));
  if (allIndex >= 0) {
    if (/^[+?]?all$/i.test(terms[allIndex]!)) terms[allIndex] = '~all';
    terms.splice(allIndex, 0, ...add);
  } else if (redirectIndex >= 0) {
    terms.splice(redirectIndex, 0, ...add);
  } else {
    terms.push(...add, '~all');
  }
  return ['v=spf1', ...terms].join(' ');
}

/** One record made of several, for a domain that published more than one (a permerror). */
export function mergeSpf(texts: readonly string[]): SpfRecord {
  const seen = new Set<string>();
  const terms: SpfTerm[] = [];
  let all: SpfTerm | undefined;
  for (const text of texts) {
    for (const term of parseSpf(text).terms) {
      if (term.name === 'all' && !term.modifier) {
        all ??= term;
        continue;
      }
      const key = term.raw.toLowerCase();
      if (!seen.has(key)) {
        seen.add(key);
        terms.push(term);
      }
    }
  }
  const merged = [...terms.filter((t) => !t.modifier), ...(all ? [all] : []), ...terms.filter((t) => t.modifier && t.name !== 'redirect')];
  return { text: ['v=spf1', ...merged.map((t) => t.raw)].join(' '), terms: merged, errors: [] };
}
