import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isGmailTransportError, type GmailTransportError } from '../../src/index.js';
import { createBridge } from '../../src/bridge/index.js';
import { main } from '../../src/cli/main.js';
import { NetworkAllowList, networkProblems, normalizeAddress, parseNetwork, publicNetworkIndices, type ParsedNetwork } from '../../src/bridge/networks.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../helpers/scripted-upstream.js';
import { relayTo, startBridge, type RunningBridge } from '../helpers/bridge.js';
import { RawSmtpClient, printerSend, scanMessage } from '../helpers/printer.js';

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

describe('allowNetworks coverage and public ranges (issue 18)', () => {
  it('refuses lists that, alone or together, cover all of IPv4, all of IPv6 or the whole IPv4-mapped range', () => {
    const problems = (...entries: string[]) => networkProblems(entries.map((e) => parseNetwork(e) as ParsedNetwork));
    expect(problems('::ffff:0:0/96')).toEqual([{ indices: [0], admits: 'every IPv4 address' }]);
    expect(problems('::1/64')).toEqual([{ indices: [0], admits: expect.stringMatching(/IPv4-mapped/) }]);
    expect(problems('::/80')).toEqual([{ indices: [0], admits: expect.stringMatching(/IPv4-mapped/) }]);
    expect(problems('0.0.0.0/1', '128.0.0.0/1')).toEqual([{ indices: [0, 1], admits: 'every IPv4 address' }]);
    expect(problems('::/1', '8000::/1')).toEqual([{ indices: [0, 1], admits: 'every IPv6 address' }]);
    // Halves written the mapped way count as IPv4 too.
    expect(problems('10.0.0.0/8', '::ffff:0:0/97', '128.0.0.0/1')).toEqual([{ indices: [1, 2], admits: 'every IPv4 address' }]);
    expect(problems('::ffff:0:0/97', '::ffff:128.0.0.0/97')).toEqual([{ indices: [0, 1], admits: 'every IPv4 address' }]);
    for (const fine of [
      ['192.168.10.0/24'],
      ['10.0.0.0/8'],
      ['fd00:10::/64'],
      ['10.1.2.3', '::1'],
      ['0.0.0.0/1'],
      ['::/81'],
      ['::ffff:10.0.0.0/104', '127.0.0.0/8'],
    ]) {
      expect(problems(...fine)).toEqual([]);
    }
  });

  it('an IPv6 entry outside ::ffff:0:0/96 never admits an IPv4 client; one inside it is judged as its IPv4 range', () => {
    expect(list('::/96').allows('0.0.0.7')).toBe(false);
    expect(list('::/96').allows('::ffff:0.0.0.7')).toBe(false);
    expect(list('::/96').allows('::7')).toBe(true);
    expect(list('::ffff:192.168.10.0/120').allows('192.168.10.9')).toBe(true);
    expect(list('::ffff:192.168.10.0/120').allows('::ffff:c0a8:0a09')).toBe(true);
    expect(list('::ffff:192.168.10.0/120').allows('192.168.11.9')).toBe(false);
    expect(list('192.168.10.0/24').allows('::ffff:c0a8:0a09')).toBe(true);
  });

  it('names the entries that admit public addresses', () => {
    const indices = (...entries: string[]) => publicNetworkIndices(entries.map((e) => parseNetwork(e) as ParsedNetwork));
    expect(
      indices(
        '192.168.10.0/24',
        '10.0.0.0/8',
        '172.16.5.0/24',
        '127.0.0.1',
        '169.254.1.0/24',
        '100.64.0.0/10',
        'fd00:10::/64',
        'fe80::/64',
        '::1',
        '::ffff:10.1.0.0/112',
      ),
    ).toEqual([]);
    expect(indices('192.168.10.0/24', '8.8.8.0/24', '0.0.0.0/1', '::ffff:8.8.4.4', '2001:db8::/32', '172.0.0.0/8', '::/96')).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

// Through the public surface: createBridge, `gmail-transport serve`, and devices on real sockets.
describe('allowNetworks on a running bridge (issue 18)', () => {
  const OPEN_RELAY_LISTS = [['::ffff:0:0/96'], ['::1/64'], ['::/80'], ['0.0.0.0/1', '128.0.0.0/1'], ['::/1', '8000::/1']];
  let upstream: ScriptedUpstream;
  const running: RunningBridge[] = [];
  const message = scanMessage({ from: 'nas@example.com', to: 'ops@example.com' });
  beforeAll(async () => {
    upstream = await startScriptedUpstream();
  });
  afterEach(async () => {
    while (running.length) await running.pop()!.close();
  });
  afterAll(() => upstream.close());

  async function bridge(allowNetworks: string[], host = '127.0.0.1'): Promise<RunningBridge> {
    const b = await startBridge({ allowNetworks, upstream: relayTo(upstream), listen: { host } });
    running.push(b);
    return b;
  }
  /** MAIL FROM's reply for a device at `from` (its own address) connecting to `to`. */
  async function mailFrom(port: number, from: string, to = '127.0.0.1'): Promise<string> {
    const client = await RawSmtpClient.connect(port, { host: to, localAddress: from });
    try {
      await client.read();
      await client.command('EHLO device.local');
      return await client.command('MAIL FROM:<nas@example.com>');
    } finally {
      client.close();
    }
  }

  it.each(OPEN_RELAY_LISTS)('createBridge refuses %j with CONFIG_INVALID naming the entries', (...entries) => {
    let err: unknown;
    try {
      createBridge({ allowNetworks: entries, upstream: relayTo(upstream) });
    } catch (e) {
      err = e;
    }
    expect(isGmailTransportError(err)).toBe(true);
    const issues = (err as GmailTransportError).issues ?? [];
    expect((err as GmailTransportError).code).toBe('CONFIG_INVALID');
    expect(issues.map((i) => i.path).sort()).toEqual(entries.map((_, i) => `allowNetworks[${i}]`));
    for (const issue of issues) expect(issue.message).toMatch(/admits (every IPv[46] address|the whole IPv4-mapped range).*relay mail for anyone/);
    // By path, never by value.
    for (const entry of entries) expect(String(err)).not.toContain(entry);
  });

  it('`gmail-transport serve` refuses an open-relay list and exits 1', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bridge-networks-'));
    try {
      await writeFile(join(dir, 'bridge.json'), JSON.stringify({ listen: { port: 0 }, allowNetworks: ['10.0.0.0/8', '::/80'], upstream: relayTo(upstream) }));
      const out: string[] = [];
      const err: string[] = [];
      const code = await main(['serve', '--config', 'bridge.json'], {
        stdout: { write: (t: string) => out.push(t) },
        stderr: { write: (t: string) => err.push(t) },
        cwd: dir,
      });
      expect(code).toBe(1);
      expect(err.join('')).toMatch(/CONFIG_INVALID/);
      expect(err.join('')).toMatch(/allowNetworks\[1\]/);
      expect(out.join('')).not.toMatch(/"event":"listening"/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('single addresses: the listed device sends without a login, its neighbour in 127.0.0.0/8 cannot', async () => {
    const b = await bridge(['127.0.0.1']);
    expect(await mailFrom(b.port, '127.0.0.1')).toMatch(/^250 /);
    expect(await mailFrom(b.port, '127.0.0.2')).toMatch(/^530 5\.7\.0 /);
    expect((await printerSend(b.port, { localAddress: '127.0.0.9', from: 'nas@example.com', to: ['ops@example.com'], message })).final).toMatch(/^530 /);
    expect(b.logs.filter((l) => l.record.event === 'public-networks')).toEqual([]);
  });

  it('a private network list (192.168.10.0/24, 10.0.0.0/8, fd00:10::/64) admits no loopback device', async () => {
    for (const entries of [['192.168.10.0/24'], ['10.0.0.0/8'], ['fd00:10::/64'], ['192.168.10.0/24', '10.0.0.0/8', 'fd00:10::/64']]) {
      const b = await bridge(entries, '::');
      expect(await mailFrom(b.port, '127.0.0.1')).toMatch(/^530 /);
      expect(await mailFrom(b.port, '::1', '::1')).toMatch(/^530 /);
      expect(b.logs.filter((l) => l.record.event === 'public-networks')).toEqual([]);
    }
  });

  it('a dual-stack listener: ::1 admits the IPv6 client only, ::ffff:127.0.0.1 and 127.0.0.0/8 the IPv4 ones', async () => {
    const v6 = await bridge(['::1'], '::');
    expect(await mailFrom(v6.port, '::1', '::1')).toMatch(/^250 /);
    expect(await mailFrom(v6.port, '127.0.0.1')).toMatch(/^530 /);
    const mapped = await bridge(['::ffff:127.0.0.1'], '::');
    expect(await mailFrom(mapped.port, '127.0.0.1')).toMatch(/^250 /);
    expect(await mailFrom(mapped.port, '127.0.0.2')).toMatch(/^530 /);
    expect(await mailFrom(mapped.port, '::1', '::1')).toMatch(/^530 /);
    const v4 = await bridge(['127.0.0.0/8'], '::');
    expect(await mailFrom(v4.port, '127.0.0.2')).toMatch(/^250 /);
    expect(await mailFrom(v4.port, '::1', '::1')).toMatch(/^530 /);
  });

  it('an IPv6 entry beside (not inside) the mapped range admits no IPv4 client', async () => {
    const b = await bridge(['::/96'], '::');
    expect(await mailFrom(b.port, '127.0.0.1')).toMatch(/^530 /);
  });

  it('entries that admit public addresses start with a loud warning naming them', async () => {
    const b = await bridge(['127.0.0.0/8', '0.0.0.0/1', '::ffff:8.8.4.4', '2001:db8::/32']);
    const warning = b.logs.find((l) => l.record.event === 'public-networks');
    expect(warning).toMatchObject({ level: 'warn', record: { allowNetworks: ['0.0.0.0/1', '::ffff:8.8.4.4', '2001:db8::/32'] } });
    expect(warning!.msg).toMatch(/public internet addresses \(0\.0\.0\.0\/1, ::ffff:8\.8\.4\.4, 2001:db8::\/32\)/);
    // It still starts: 0.0.0.0/1 is a choice, not an open relay for all of IPv4.
    expect(await mailFrom(b.port, '127.0.0.5')).toMatch(/^250 /);
  });
});
