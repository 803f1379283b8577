import { describe, expect, it } from 'vitest';
import { NetworkAllowList, normalizeAddress, parseNetwork, type ParsedNetwork } from '../../src/bridge/networks.js';

function list(...entries: string[]): NetworkAllowList {
  return new NetworkAllowList(entries.map((e) => parseNetwork(e) as ParsedNetwork));
}

describe('allowNetworks matching', () => {
  it('parses CIDR networks and single addresses, IPv4 and IPv6', () => {
    expect(parseNetwork('192.168.10.0/24')).toEqual({ address: '192.168.10.0', prefix: 24, family: 'ipv4' });
    expect(parseNetwork(' 10.0.0.7 ')).toEqual({ address: '10.0.0.7', prefix: 32, family: 'ipv4' });
    expect(parseNetwork('fd00:10::/64')).toEqual({ address: 'fd00:10::', prefix: 64, family: 'ipv6' });
    expect(parseNetwork('::1')).toEqual({ address: '::1', prefix: 128, family: 'ipv6' });
  });

  it('explains what is wrong without repeating the value', () => {
    for (const bad of ['192.168.1.0/33', 'fd00::/129', 'printers', '10.0.0.0/8/8', '10.0.0.0/x', '0.0.0.0/0', '::/0']) {
      const result = parseNetwork(bad);
      expect(result).toHaveProperty('error');
      expect((result as { error: string }).error).not.toContain(bad);
    }
  });

  it('matches addresses inside the networks only', () => {
    const allow = list('192.168.10.0/24', 'fd00:10::/64', '10.1.2.3');
    expect(allow.allows('192.168.10.77')).toBe(true);
    expect(allow.allows('192.168.11.1')).toBe(false);
    expect(allow.allows('10.1.2.3')).toBe(true);
    expect(allow.allows('10.1.2.4')).toBe(false);
    expect(allow.allows('fd00:10::abcd')).toBe(true);
    expect(allow.allows('FD00:10:0:0:0:0:0:1')).toBe(true);
    expect(allow.allows('fd00:11::1')).toBe(false);
    expect(allow.allows('not-an-address')).toBe(false);
    expect(list().allows('127.0.0.1')).toBe(false);
  });

  it('treats IPv4-mapped IPv6 addresses (dual-stack listeners) as the IPv4 address they carry', () => {
    const allow = list('192.168.10.0/24');
    expect(allow.allows('::ffff:192.168.10.5')).toBe(true);
    expect(allow.allows('::FFFF:192.168.99.5')).toBe(false);
    expect(normalizeAddress('::ffff:192.168.10.5')).toBe('192.168.10.5');
    // A rule written in the mapped form matches plain IPv4 clients too.
    expect(list('::ffff:10.0.0.0/104').allows('10.9.8.7')).toBe(true);
  });
});
