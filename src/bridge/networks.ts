import { BlockList, isIPv4, isIPv6 } from 'node:net';

/** One parsed `allowNetworks` entry. */
export interface ParsedNetwork {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/**
 * Parses `192.168.10.0/24`, `fd00::/8`, or a single address (`10.0.0.7`, `::1`). Returns a
 * message (never the value) when it is not a network.
 */
export function parseNetwork(value: string): ParsedNetwork | { error: string } {
  const [address = '', prefixText, extra] = value.trim().split('/');
  if (extra !== undefined) return { error: 'must be an address or address/prefix (CIDR), e.g. 192.168.10.0/24' };
  const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
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
 * Addresses that may send without AUTH. node:net's BlockList does the matching; it treats an
 * IPv4-mapped IPv6 address (`::ffff:192.168.10.5`, what a dual-stack listener reports for an IPv4
 * client) as the IPv4 address it carries, in both directions.
 */
export class NetworkAllowList {
  readonly #list = new BlockList();
  readonly size: number;

  constructor(networks: readonly ParsedNetwork[]) {
    for (const n of networks) this.#list.addSubnet(n.address, n.prefix, n.family);
    this.size = networks.length;
  }

  allows(address: string): boolean {
    if (this.size === 0) return false;
    const plain = normalizeAddress(address);
    if (isIPv4(plain)) return this.#list.check(plain, 'ipv4');
    if (isIPv6(plain)) return this.#list.check(plain, 'ipv6');
    return false;
  }
}

/** `::ffff:192.0.2.1` → `192.0.2.1`; lower-cases IPv6; anything else unchanged. */
export function normalizeAddress(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped?.[1]) return mapped[1];
  return address.toLowerCase();
}
