import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDomain, isGmailTransportError, type DoctorReport } from '../../src/index.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { DOCTOR_CASES, doctorKeys, doctorZone, type DoctorKeys } from '../helpers/doctor-zones.js';

const statuses = (report: DoctorReport) => Object.fromEntries(report.checks.map((c) => [c.id, c.status]));
const check = (report: DoctorReport, id: string) => report.checks.find((c) => c.id === id)!;

describe('checkDomain against a real DNS server', () => {
  let keys: DoctorKeys;
  let dns: TestDnsServer;
  let servfail: TestDnsServer;
  let silent: TestDnsServer;

  beforeAll(async () => {
    keys = doctorKeys();
    dns = await startDnsServer(doctorZone(keys));
    servfail = await startDnsServer({}, 'servfail');
    silent = await startDnsServer({}, 'silent');
  });
  afterAll(async () => {
    await dns.close();
    await servfail.close();
    await silent.close();
  });

  for (const c of DOCTOR_CASES) {
    it(`reports ${c.name}`, async () => {
      const report = await checkDomain({
        domain: c.domain,
        route: { strategy: c.strategy as never, ...(c.preset ? { preset: c.preset as never } : {}) },
        dnsServer: dns.address,
        ...(c.selectors ? { dkimSelectors: c.selectors } : {}),
      });
      expect(statuses(report)).toEqual(c.checks);
      expect(report.verdicts).toEqual({
        allSenders: { status: c.allSenders[0], missing: c.allSenders[1] },
        bulkSenders: { status: c.bulkSenders[0], missing: c.bulkSenders[1] },
      });
      // Every warning or failure that a record fixes says which record.
      for (const item of report.checks) if (item.status === 'fail') expect(item.fix, item.id).toBeTruthy();
    });
  }

  it('gives the exact records to publish', async () => {
    const nospf = await checkDomain({ domain: 'nospf.example', route: { strategy: 'oauth2' }, dnsServer: dns.address });
    expect(check(nospf, 'spf').fix).toBe('nospf.example TXT "v=spf1 include:_spf.google.com ~all"');

    const two = await checkDomain({ domain: 'twospf.example', route: { strategy: 'oauth2' }, dnsServer: dns.address });
    expect(check(two, 'spf').detail).toMatch(/2 SPF records/);
    expect(check(two, 'spf').fix).toBe('twospf.example TXT "v=spf1 include:_spf.google.com ip4:192.0.2.10 ~all"');

    const noinclude = await checkDomain({ domain: 'noinclude.example', route: { strategy: 'oauth2' }, dnsServer: dns.address });
    expect(check(noinclude, 'spf-authorises-route').detail).toMatch(/does not authorise Google: include:_spf\.google\.com/);
    expect(check(noinclude, 'spf-authorises-route').fix).toBe('noinclude.example TXT "v=spf1 include:mailgun.org include:_spf.google.com ~all"');

    const toomany = await checkDomain({ domain: 'toomany.example', route: { strategy: 'oauth2' }, dnsServer: dns.address });
    expect(check(toomany, 'spf-lookups').detail).toMatch(/^14 DNS lookups, over the limit of 10/);

    const pnone = await checkDomain({ domain: 'pnone.example', route: { strategy: 'oauth2' }, dnsServer: dns.address });
    expect(check(pnone, 'dmarc').fix).toBe('_dmarc.pnone.example TXT "v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@pnone.example"');
    expect(check(pnone, 'dmarc-alignment').detail).toMatch(/neither SPF nor DKIM can align/);
    expect(check(pnone, 'mx').detail).toMatch(/no MX record/);

    const nodmarc = await checkDomain({ domain: 'nodmarc.example', route: { strategy: 'oauth2' }, dnsServer: dns.address });
    expect(check(nodmarc, 'dmarc').fix).toBe('_dmarc.nodmarc.example TXT "v=DMARC1; p=none; rua=mailto:dmarc-reports@nodmarc.example"');

    const short = await checkDomain({ domain: 'shortkey.example', route: { strategy: 'oauth2' }, dnsServer: dns.address });
    expect(check(short, 'dkim').detail).toBe('google: RSA 768 bits, below the 1024 Gmail requires (treated as unsigned)');
    expect(check(short, 'dmarc-alignment').detail).toMatch(/SPF can align/);
  });

  it('fails a domain whose null MX (RFC 7505) says it receives no mail', async () => {
    const report = await checkDomain({ domain: 'nullmx.example', route: { strategy: 'oauth2' }, dnsServer: dns.address });
    expect(check(report, 'mx')).toEqual({
      id: 'mx',
      status: 'fail',
      detail: 'nullmx.example publishes a null MX ("0 ."): it receives no mail, so replies and bounces are lost and some receivers refuse its mail',
      fix: 'nullmx.example MX 1 smtp.google.com',
    });
    const good = await checkDomain({
      domain: 'good.example',
      route: { strategy: 'relay', preset: 'resend' },
      dnsServer: dns.address,
      dkimSelectors: ['google'],
    });
    expect(check(good, 'mx').detail).toBe('MX 1 aspmx.l.google.com, 5 alt1.aspmx.l.google.com');
  });

  it('writes details and advice in Japanese with locale ja', async () => {
    const report = await checkDomain({ domain: 'pnone.example', route: { strategy: 'oauth2' }, dnsServer: dns.address, locale: 'ja' });
    expect(check(report, 'dkim').detail).toBe('google: 鍵レコードがありません');
    expect(check(report, 'dkim').fix).toMatch(/Google 管理コンソール/);
    expect(check(report, 'dmarc').detail).toMatch(/p=none（監視のみ）/);
  });

  it("checks that the key published at the dkim option's selector is the configured private key", async () => {
    const route = {
      strategy: 'relay' as const,
      host: 'smtp.example.net',
      dkim: { domainName: 'signed.example', keySelector: 'mail2026', privateKey: keys.signer.pem },
    };
    const matching = await checkDomain({ domain: 'signed.example', route, dnsServer: dns.address });
    expect(check(matching, 'dkim')).toEqual({ id: 'dkim', status: 'pass', detail: 'mail2026: RSA 2048 bits' });
    expect(matching.route).toEqual({ strategy: 'relay', spfIncludes: [], dkimSelectors: ['mail2026'] });

    const other = { ...route, dkim: { ...route.dkim, privateKey: keys.other.pem } };
    const mismatched = await checkDomain({ domain: 'signed.example', route: other, dnsServer: dns.address });
    const dkim = check(mismatched, 'dkim');
    expect(dkim.status).toBe('fail');
    expect(dkim.detail).toBe('mail2026: the published key is not the public half of the configured dkim.privateKey');
    expect(dkim.fix).toBe(`mail2026._domainkey.signed.example TXT "v=DKIM1; k=rsa; p=${keys.other.p}"`);
    const text = JSON.stringify(mismatched);
    expect(text).not.toContain(keys.other.pem.split('\n')[1]);
    expect(text).not.toContain(keys.signer.pem.split('\n')[1]);
  });

  it('treats a resolver that answers SERVFAIL as "could not be checked", never a pass', async () => {
    const report = await checkDomain({ domain: 'good.example', route: { strategy: 'oauth2' }, dnsServer: servfail.address });
    expect(report.checks.every((c) => c.status === 'warn')).toBe(true);
    expect(check(report, 'spf').detail).toMatch(/could not be checked: the resolver answered ESERVFAIL for TXT good\.example/);
    expect(check(report, 'dkim').detail).toMatch(/google: could not be checked \(resolver answered ESERVFAIL\)/);
    expect(report.verdicts).toEqual({ allSenders: { status: 'warn', missing: [] }, bulkSenders: { status: 'warn', missing: [] } });
  });

  it('ends within seconds when the resolver never answers', async () => {
    const started = Date.now();
    const report = await checkDomain({ domain: 'good.example', route: { strategy: 'oauth2' }, dnsServer: silent.address, timeoutMs: 500 });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(report.checks.every((c) => c.status === 'warn')).toBe(true);
    expect(check(report, 'mx').detail).toMatch(/ETIMEOUT/);
    expect(report.verdicts.bulkSenders.status).toBe('warn');
  });

  it('without a route, says which checks it could not make', async () => {
    const report = await checkDomain({ domain: 'good.example', dnsServer: dns.address });
    expect(report.route).toBeNull();
    expect(check(report, 'spf-authorises-route')).toMatchObject({ status: 'warn', detail: expect.stringMatching(/give --strategy or --config/) });
    expect(check(report, 'dkim')).toMatchObject({ status: 'warn', detail: expect.stringMatching(/give --dkim-selector/) });
    const withSelector = await checkDomain({ domain: 'good.example', dnsServer: dns.address, dkimSelectors: ['google'] });
    expect(check(withSelector, 'dkim').status).toBe('pass');
    expect(check(withSelector, 'dmarc-alignment').status).toBe('pass');
  });

  it('takes a whole transport config as the route, failover included', async () => {
    const report = await checkDomain({
      domain: 'noinclude.example',
      route: {
        strategy: 'failover',
        transports: [
          { strategy: 'app-password', user: 'me@noinclude.example', appPassword: 'abcd efgh ijkl mnop' },
          { strategy: 'relay', preset: 'mailgun', auth: { user: 'postmaster@noinclude.example', pass: 'FAKE-MAILGUN-KEY-31c2' } },
        ],
      },
      dnsServer: dns.address,
    });
    expect(report.route).toEqual({ strategy: 'failover', spfIncludes: ['_spf.google.com', 'mailgun.org'], dkimSelectors: ['google'] });
    const authorises = check(report, 'spf-authorises-route');
    expect(authorises.status).toBe('fail');
    expect(authorises.detail).toBe('does not authorise Google: include:_spf.google.com is missing or never reached; authorises Mailgun (include:mailgun.org)');
    expect(JSON.stringify(report)).not.toContain('FAKE-MAILGUN-KEY-31c2');
  });

  it('refuses bad options with CONFIG_INVALID naming each field, before any DNS query', async () => {
    const asked = dns.asked.length;
    const marker = 'FAKE-DKIM-KEY-9c1e';
    const err = await checkDomain({
      domain: 'not a domain',
      route: { strategy: 'relay', preset: 'nope' as never, dkim: { domainName: 'signed.example', keySelector: 'x', privateKey: marker } },
      dnsServer: 'dns.example.com',
      dkimSelectors: ['bad selector'],
    }).catch((e: unknown) => e);
    expect(isGmailTransportError(err)).toBe(true);
    expect((err as { code: string }).code).toBe('CONFIG_INVALID');
    const paths = (err as { issues: { path: string }[] }).issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['domain', 'route.preset', 'route.dkim.privateKey', 'dnsServer', 'dkimSelectors']));
    for (const text of [String(err), JSON.stringify(err), inspect(err)]) expect(text).not.toContain(marker);
    expect(dns.asked.length).toBe(asked);
  });
});
