import { isIPv4, isIPv6 } from 'node:net';

/** One parsed `allowNetworks` entry. */
export interface ParsedNetwork {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** An inclusive range of addresses of one family, as integers. */
interface Span {
  first: bigint;
  last: bigint;
}

const V4_ALL: Span = { first: 0n, last: (1n << 32n) - 1n };
const V6_ALL: Span = { first: 0n, last: (1n << 128n) - 1n };
// RFC 4291 section 2.5.5.2: ::ffff:0:0/96 carries IPv4 addresses; a dual-stack listener reports
// its IPv4 clients in it.
const MAPPED: Span = { first: 0xffffn << 32n, last: (0xffffn << 32n) | V4_ALL.last };

// Ranges that never reach the internet: RFC 1918 private, RFC 1122 loopback, RFC 3927 link-local,
// RFC 6598 carrier-grade NAT; RFC 4291 loopback and link-local, RFC 4193 unique local.
const NON_PUBLIC_V4 = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '127.0.0.0/8', '169.254.0.0/16', '100.64.0.0/10'].map((n) => spanOf(n, 32));
const NON_PUBLIC_V6 = ['::1/128', 'fe80::/10', 'fc00::/7'].map((n) => spanOf(n, 128));

/**
 * Parses `192.168.10.0/24`, `fd00::/8`, or a single address (`10.0.0.7`, `::1`). Returns a
 * message (never the value) when it is not a network.
 */
export function parseNetwork(value: string): ParsedNetwork | { error: string } {
  const [address = '', prefixText, extra] = value.trim().split('/');
  if (extra !== undefined) return { error: 'must be an address or address/prefix (CIDR), e.g. 192.168.10.0/24' };
  const family = isIPv4(address) ? 'ipv4' : isIPv6(address) && !address.includes('%') ? 'ipv6' : undefined;
  if (!family) return { error: 'must start with an IPv4 or IPv6 address, e.g. 192.168.10.0/24 or fd00::/8' };
  const max = family === 'ipv4' ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return { error: `has a prefix length that is not a number from 0 to ${max}` };
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (prefix > max) return { error: `has a prefix length over ${max}` };
  // A /0 admits every address on the internet: an open relay for whoever reaches the port.
  if (prefix === 0) return { error: 'must not admit every address (/0): that would make the bridge an open relay' };
  return { address, prefix, family };
}

/**
 * Addresses that may send without AUTH. An IPv4 client (also one a dual-stack listener reports
 * as `::ffff:192.168.10.5`) matches IPv4 entries and IPv6 entries inside `::ffff:0:0/96`, the
 * latter judged as the IPv4 range they carry; an IPv6 entry outside that range never matches an
 * IPv4 client, even one that contains the whole range (`::/64`).
 */
export class NetworkAllowList {
  readonly #v4: Span[] = [];
  readonly #v6: Span[] = [];
  readonly size: number;

  constructor(networks: readonly ParsedNetwork[]) {
    for (const n of networks) {
      const { family, span } = effectiveSpan(n);
      (family === 'ipv4' ? this.#v4 : this.#v6).push(span);
    }
    this.size = networks.length;
  }

  allows(address: string): boolean {
    if (this.size === 0) return false;
    const client = parseClient(address);
    if (!client) return false;
    const spans = client.family === 'ipv4' ? this.#v4 : this.#v6;
    return spans.some((s) => s.first <= client.value && client.value <= s.last);
  }
}

/** An `allowNetworks` list that would admit too much, and the entries (by index) that do it. */
export interface NetworkProblem {
  indices: number[];
  /** What the entries admit, e.g. "every IPv4 address". */
  admits: string;
}

/**
 * The ways a list, alone or entries together, admits everyone: all of IPv4 (IPv4 entries and
 * IPv4-mapped IPv6 entries together), all of IPv6, or the whole IPv4-mapped range (every IPv4
 * client of a dual-stack listener).
 */
export function networkProblems(networks: readonly ParsedNetwork[]): NetworkProblem[] {
  const v4: Array<{ index: number; span: Span }> = [];
  const v6: Array<{ index: number; span: Span }> = [];
  networks.forEach((n, index) => {
    const effective = effectiveSpan(n);
    if (effective.family === 'ipv4') v4.push({ index, span: effective.span });
    if (n.family === 'ipv6') v6.push({ index, span: spanOf(`${n.address}/${n.prefix}`, 128) });
  });
  const problems: NetworkProblem[] = [];
  const check = (entries: typeof v4, target: Span, admits: string): boolean => {
    const touching = entries.filter((e) => e.span.first <= target.last && e.span.last >= target.first);
    if (
      !covers(
        touching.map((e) => e.span),
        target,
      )
    )
      return false;
    const alone = touching.find((e) => e.span.first <= target.first && e.span.last >= target.last);
    // Name the entries that do it, not the ones inside them (10.0.0.0/8 beside 0.0.0.0/1).
    const inside = (e: (typeof touching)[number], o: (typeof touching)[number]): boolean =>
      o !== e &&
      o.span.first <= e.span.first &&
      e.span.last <= o.span.last &&
      (o.span.first !== e.span.first || o.span.last !== e.span.last || o.index < e.index);
    const named = touching.filter((e) => !touching.some((o) => inside(e, o)));
    problems.push({ indices: alone ? [alone.index] : named.map((e) => e.index), admits });
    return true;
  };
  const allV4 = check(v4, V4_ALL, 'every IPv4 address');
  const allV6 = check(v6, V6_ALL, 'every IPv6 address');
  if (!allV4 && !allV6) check(v6, MAPPED, 'the whole IPv4-mapped range ::ffff:0:0/96 (every IPv4 client of a dual-stack listener)');
  return problems;
}

/**
 * The entries (by index) that admit addresses outside private, loopback, link-local, unique
 * local and carrier-grade NAT ranges: reachable from the internet if the port is.
 */
export function publicNetworkIndices(networks: readonly ParsedNetwork[]): number[] {
  const out: number[] = [];
  networks.forEach((n, index) => {
    const { family, span } = effectiveSpan(n);
    const safe = family === 'ipv4' ? NON_PUBLIC_V4 : NON_PUBLIC_V6;
    if (!safe.some((s) => s.first <= span.first && span.last <= s.last)) out.push(index);
  });
  return out;
}

/** `::ffff:192.0.2.1` → `192.0.2.1`; lower-cases IPv6; anything else unchanged. */
export function normalizeAddress(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped?.[1]) return mapped[1];
  return address.toLowerCase();
}

/** The range an entry admits, an IPv6 entry inside the mapped range turned into its IPv4 range. */
function effectiveSpan(n: ParsedNetwork): { family: 'ipv4' | 'ipv6'; span: Span } {
  if (n.family === 'ipv4') return { family: 'ipv4', span: spanOf(`${n.address}/${n.prefix}`, 32) };
  const span = spanOf(`${n.address}/${n.prefix}`, 128);
  if (n.prefix >= 96 && span.first >= MAPPED.first && span.last <= MAPPED.last) {
    return { family: 'ipv4', span: { first: span.first - MAPPED.first, last: span.last - MAPPED.first } };
  }
  return { family: 'ipv6', span };
}

/** A client's address as a number of its family; IPv4-mapped IPv6 counts as IPv4. */
function parseClient(address: string): { family: 'ipv4' | 'ipv6'; value: bigint } | undefined {
  const plain = address.replace(/%.*$/, '');
  if (isIPv4(plain)) return { family: 'ipv4', value: ipv4Value(plain) };
  if (!isIPv6(plain)) return undefined;
  const value = ipv6Value(plain);
  if (value >= MAPPED.first && value <= MAPPED.last) return { family: 'ipv4', value: value - MAPPED.first };
  return { family: 'ipv6', value };
}

/** `address/prefix` (valid, from parseNetwork) as the span of its network; host bits ignored. */
function spanOf(cidr: string, bits: 32 | 128): Span {
  const [address = '', prefixText = String(bits)] = cidr.split('/');
  const value = bits === 32 ? ipv4Value(address) : ipv6Value(address);
  const hostBits = BigInt(bits - Number(prefixText));
  const first = (value >> hostBits) << hostBits;
  return { first, last: first + (1n << hostBits) - 1n };
}

function ipv4Value(address: string): bigint {
  return address.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function ipv6Value(address: string): bigint {
  let text = address.toLowerCase();
  const lastColon = text.lastIndexOf(':');
  // A dotted IPv4 tail (`::ffff:192.0.2.1`) is the last two 16-bit groups.
  if (text.includes('.', lastColon)) {
    const v4 = ipv4Value(text.slice(lastColon + 1));
    text = `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const before = head ? head.split(':') : [];
  const after = tail ? tail.split(':') : [];
  const groups = tail === undefined ? before : [...before, ...Array<string>(8 - before.length - after.length).fill('0'), ...after];
  return groups.reduce((acc, group) => (acc << 16n) | BigInt(parseInt(group, 16)), 0n);
}

/** Whether the union of `spans` contains all of `target`. */
function covers(spans: readonly Span[], target: Span): boolean {
  let next = target.first;
  for (const span of [...spans].sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0))) {
    if (span.first > next) return false;
    if (span.last >= next) next = span.last + 1n;
    if (next > target.last) return true;
  }
  return false;
}
