import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsClient, parseDnsServer } from '../../src/doctor/dns.js';
import { fetchSpf, parseSpf, spfWith, walkSpf } from '../../src/doctor/spf.js';
import { parseDkimKey } from '../../src/doctor/dkim.js';
import { parseDmarc } from '../../src/doctor/dmarc.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { rsaKey } from '../helpers/doctor-zones.js';

describe('SPF evaluation (RFC 7208)', () => {
  let dns: TestDnsServer;
  beforeAll(async () => {
    dns = await startDnsServer({
      'after-all.example': { TXT: ['v=spf1 -all include:_spf.google.com'] },
      'negated.example': { TXT: ['v=spf1 -include:_spf.google.com ~all'] },
      'redirect.example': { TXT: ['v=spf1 redirect=_spf.target.example'] },
      '_spf.target.example': { TXT: ['v=spf1 include:_spf.google.com -all'] },
      'redirect-beside-all.example': { TXT: ['v=spf1 ~all redirect=_spf.target.example'] },
      'loop.example': { TXT: ['v=spf1 include:loop2.example ~all'] },
      'loop2.example': { TXT: ['v=spf1 include:loop.example ~all'] },
      'dangling.example': { TXT: ['v=spf1 include:nowhere.example ~all'] },
      'macro.example': { TXT: ['v=spf1 exists:%{i}._spf.macro.example include:%{d}.x.example ~all'] },
      '_spf.google.com': { TXT: ['v=spf1 ip4:64.233.160.0/19 ~all'] },
      'split.example': { TXT: [['v=spf1 include:_spf.goo', 'gle.com ~all']] },
    });
  });
  afterAll(() => dns.close());

  const walk = async (domain: string) => {
    const client = new DnsClient([dns.address]);
    try {
      const at = await fetchSpf(client, domain);
      if (at.kind !== 'one') throw new Error(`no single record at ${domain}`);
      return await walkSpf(client, domain, at.record);
    } finally {
      client.close();
    }
  };

  it('never reaches terms after all, and a negated include authorises nothing', async () => {
    expect((await walk('after-all.example')).authorised.has('_spf.google.com')).toBe(false);
    expect((await walk('after-all.example')).lookups).toBe(0);
    expect((await walk('negated.example')).authorised.has('_spf.google.com')).toBe(false);
  });

  it('follows redirect (and its all), unless the record has an all of its own', async () => {
    const redirected = await walk('redirect.example');
    expect([...redirected.authorised]).toEqual(['_spf.target.example', '_spf.google.com']);
    expect(redirected.all).toBe('-');
    expect(redirected.lookups).toBe(2);
    const beside = await walk('redirect-beside-all.example');
    expect(beside.authorised.size).toBe(0);
    expect(beside.all).toBe('~');
  });

  it('reports loops and includes of domains without SPF as permanent errors; counts macros without following them', async () => {
    expect((await walk('loop.example')).errors).toEqual(['include loop.example loops back']);
    expect((await walk('dangling.example')).errors).toEqual(['include:nowhere.example has no SPF record']);
    const macro = await walk('macro.example');
    expect(macro.lookups).toBe(2);
    expect(macro.errors).toEqual([]);
  });

  it('joins a record split into several strings', async () => {
    expect((await walk('split.example')).authorised.has('_spf.google.com')).toBe(true);
  });

  it('finds syntax errors by term', () => {
    expect(parseSpf('v=spf1 ip4:300.1.1.1 ip6:zz include: foo redirect=a.example redirect=b.example -all').errors).toEqual([
      'ip4:300.1.1.1: needs an IPv4 address',
      'ip6:zz: needs an IPv6 address',
      'include:: needs a domain',
      'unknown term "foo"',
      'redirect= appears twice',
    ]);
    expect(parseSpf('v=spf1 a/24 mx:mail.example//64 ip4:192.0.2.0/24 ?all').errors).toEqual([]);
  });

  it('writes the record to publish: the include before all, a permissive all made ~all', () => {
    expect(spfWith(parseSpf('v=spf1 ip4:192.0.2.1 +all'), ['_spf.google.com'])).toBe('v=spf1 ip4:192.0.2.1 include:_spf.google.com ~all');
    expect(spfWith(parseSpf('v=spf1 mx'), ['_spf.google.com'])).toBe('v=spf1 mx include:_spf.google.com ~all');
    expect(spfWith(parseSpf('v=spf1 include:_spf.google.com -all'), ['_spf.google.com'])).toBe('v=spf1 include:_spf.google.com -all');
  });
});

describe('DKIM and DMARC records', () => {
  it('reads key records: size, revoked, Ed25519, garbage', () => {
    const key = rsaKey(1024);
    expect(parseDkimKey(`v=DKIM1; k=rsa; p=${key.p}`)).toMatchObject({ kind: 'rsa', bits: 1024 });
    expect(parseDkimKey(`k=rsa;\tp=${key.p.slice(0, 40)} ${key.p.slice(40)}`)).toMatchObject({ kind: 'rsa', bits: 1024 });
    expect(parseDkimKey('v=DKIM1; p=')).toEqual({ kind: 'revoked' });
    expect(parseDkimKey(`v=DKIM1; k=ed25519; p=${Buffer.alloc(32, 7).toString('base64')}`)).toEqual({ kind: 'ed25519' });
    expect(parseDkimKey('v=DKIM1; p=bm90IGEga2V5')).toEqual({ kind: 'invalid', reason: 'p= is not an RSA public key' });
    expect(parseDkimKey(`k=rsa; v=DKIM1; p=${key.p}`)).toEqual({ kind: 'invalid', reason: 'v= must come first' });
  });

  it('reads DMARC policy, subdomain policy and report addresses', () => {
    expect(parseDmarc('v=DMARC1; p=reject; sp=none; rua=mailto:a@example.com,mailto:b@example.com; adkim=s', 'example.com', true)).toMatchObject({
      policy: 'none',
      reportTo: ['mailto:a@example.com', 'mailto:b@example.com'],
      adkim: 's',
      aspf: 'r',
      errors: [],
    });
    expect(parseDmarc('v=DMARC1; p=maybe', 'example.com', false).errors).toEqual(['p=maybe is not none, quarantine or reject']);
  });

  it('parses --dns-server addresses, never host names', () => {
    expect(parseDnsServer('127.0.0.1:5353')).toBe('127.0.0.1:5353');
    expect(parseDnsServer('192.0.2.53')).toBe('192.0.2.53');
    expect(parseDnsServer('[::1]:53')).toBe('[::1]:53');
    expect(parseDnsServer('::1')).toBe('::1');
    expect(parseDnsServer('dns.google')).toBeUndefined();
    expect(parseDnsServer('300.1.1.1')).toBeUndefined();
    expect(parseDnsServer('127.0.0.1:0')).toBeUndefined();
  });
});
