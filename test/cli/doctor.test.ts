import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { DOCTOR_CASES, doctorKeys, doctorZone, type DoctorKeys } from '../helpers/doctor-zones.js';
import { startRecordingServer, type RecordingServer } from '../helpers/smtp-server.js';

const APP_PASSWORD = 'fake doct orap pxyz';

async function run(args: string[], env: Record<string, string> = {}, cwd = process.cwd()) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env,
    cwd,
    openBrowser: () => {
      throw new Error('doctor must not open a browser');
    },
  });
  return { code, stdout, stderr };
}

describe('gmail-transport doctor', () => {
  let keys: DoctorKeys;
  let dns: TestDnsServer;
  let servfail: TestDnsServer;
  let silent: TestDnsServer;
  let dir: string;

  beforeAll(async () => {
    keys = doctorKeys();
    dns = await startDnsServer(doctorZone(keys));
    servfail = await startDnsServer({}, 'servfail');
    silent = await startDnsServer({}, 'silent');
    dir = await mkdtemp(join(tmpdir(), 'gmail-transport-doctor-'));
  });
  afterAll(async () => {
    await dns.close();
    await servfail.close();
    await silent.close();
    await rm(dir, { recursive: true, force: true });
  });

  for (const c of DOCTOR_CASES) {
    it(`reports ${c.name} as JSON, exit code ${c.exit}`, async () => {
      const args = [
        'doctor',
        '--domain',
        c.domain,
        '--strategy',
        c.strategy,
        ...(c.preset ? ['--preset', c.preset] : []),
        '--dns-server',
        dns.address,
        '--format',
        'json',
      ];
      for (const s of c.selectors ?? []) args.push('--dkim-selector', s);
      const result = await run(args);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(c.exit);
      const report = JSON.parse(result.stdout) as {
        domain: string;
        route: unknown;
        checks: { id: string; status: string; detail: string; fix?: string }[];
        verdicts: Record<string, { status: string; missing: string[] }>;
      };
      expect(Object.keys(report)).toEqual(['domain', 'route', 'checks', 'verdicts']);
      expect(report.domain).toBe(c.domain);
      expect(report.checks.map((x) => x.id)).toEqual(['mx', 'spf', 'spf-lookups', 'spf-authorises-route', 'dkim', 'dmarc', 'dmarc-alignment']);
      for (const item of report.checks) {
        expect(Object.keys(item).filter((k) => k !== 'fix')).toEqual(['id', 'status', 'detail']);
        expect(typeof item.detail).toBe('string');
      }
      expect(Object.fromEntries(report.checks.map((x) => [x.id, x.status]))).toEqual(c.checks);
      expect(report.verdicts).toEqual({
        allSenders: { status: c.allSenders[0], missing: c.allSenders[1] },
        bulkSenders: { status: c.bulkSenders[0], missing: c.bulkSenders[1] },
      });
    });
  }

  it('prints text with the fix under each failing check, in English and Japanese', async () => {
    const en = await run(['doctor', '--domain', 'noinclude.example', '--strategy', 'oauth2', '--dns-server', dns.address]);
    expect(en.code).toBe(1);
    expect(en.stdout).toContain('gmail-transport doctor: noinclude.example (route: oauth2 (include:_spf.google.com))');
    expect(en.stdout).toMatch(
      / {2}FAIL {2}spf-authorises-route {2}does not authorise Google: include:_spf\.google\.com is missing or never reached\n {30}fix: noinclude\.example TXT "v=spf1 include:mailgun\.org include:_spf\.google\.com ~all"\n/,
    );
    expect(en.stdout).toMatch(/ {2}PASS {2}dkim {18}google: RSA 2048 bits/);
    expect(en.stdout).toContain('  All senders: PASS\n  5,000+ a day: FAIL (missing: SPF)\n');

    const ja = await run(['doctor', '--domain', 'pnone.example', '--strategy', 'oauth2', '--dns-server', dns.address, '--locale', 'ja']);
    expect(ja.code).toBe(1);
    expect(ja.stdout).toContain('（経路: oauth2 (include:_spf.google.com)）');
    expect(ja.stdout).toMatch(/修正: _dmarc\.pnone\.example TXT "v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@pnone\.example"/);
    expect(ja.stdout).toContain('すべての送信者: FAIL (不足: SPF または DKIM)');
    expect(ja.stdout).toContain('1 日 5,000 通以上: FAIL (不足: SPF, DKIM, DMARC アライメント)');
  });

  it('takes the route and the dkim key from --config, the key read from a file, and flags a mismatched published key', async () => {
    await writeFile(join(dir, 'dkim.pem'), keys.other.pem);
    await writeFile(join(dir, 'signer.pem'), keys.signer.pem);
    const config = (keyFile: string) => ({
      strategy: 'relay',
      host: 'smtp.example.net',
      auth: { user: 'mailer', pass: { env: 'RELAY_PASSWORD' } },
      dkim: { domainName: 'signed.example', keySelector: 'mail2026', privateKey: { file: keyFile } },
    });
    await writeFile(join(dir, 'mismatch.json'), JSON.stringify(config('dkim.pem')));
    await writeFile(join(dir, 'match.json'), JSON.stringify(config('signer.pem')));
    const env = { RELAY_PASSWORD: 'FAKE-RELAY-PASS-5d0b' };

    const bad = await run(['doctor', '--domain', 'signed.example', '--config', 'mismatch.json', '--dns-server', dns.address], env, dir);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/FAIL {2}dkim {18}mail2026: the published key is not the public half of the configured dkim\.privateKey/);
    expect(bad.stdout).toContain(`fix: mail2026._domainkey.signed.example TXT "v=DKIM1; k=rsa; p=${keys.other.p}"`);
    expect(bad.stdout).toMatch(/WARN {2}spf-authorises-route {2}relay smtp\.example\.net has no built-in profile/);
    for (const output of [bad.stdout, bad.stderr]) {
      expect(output).not.toContain('FAKE-RELAY-PASS-5d0b');
      expect(output).not.toContain(keys.other.pem.split('\n')[1]);
    }

    const good = await run(['doctor', '--domain', 'signed.example', '--config', join(dir, 'match.json'), '--dns-server', dns.address, '--format', 'json'], env);
    expect(good.code).toBe(0);
    expect(JSON.parse(good.stdout).checks.find((x: { id: string }) => x.id === 'dkim')).toEqual({
      id: 'dkim',
      status: 'pass',
      detail: 'mail2026: RSA 2048 bits',
    });
  });

  it('reports a config file it cannot read as a diagnosis, exit code 1', async () => {
    const result = await run(['doctor', '--domain', 'good.example', '--config', join(dir, 'missing.json'), '--dns-server', dns.address]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/doctor: FAILED CONFIG_INVALID/);
  });

  it('warns, never passes, when the resolver answers SERVFAIL, and exits 0 since nothing failed', async () => {
    const result = await run(['doctor', '--domain', 'good.example', '--strategy', 'oauth2', '--dns-server', servfail.address]);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toMatch(/PASS {2}(mx|spf|dkim|dmarc)/);
    expect(result.stdout).toMatch(/WARN {2}spf +could not be checked: the resolver answered ESERVFAIL/);
    expect(result.stdout).toContain('  All senders: WARN (some records could not be checked)');
  });

  it('ends within seconds, with its default time-outs, when the resolver never answers', async () => {
    const started = Date.now();
    const result = await run(['doctor', '--domain', 'good.example', '--strategy', 'oauth2', '--dns-server', silent.address, '--format', 'json']);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(6000);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { checks: { status: string; detail: string }[] };
    expect(report.checks.every((c) => c.status === 'warn')).toBe(true);
    expect(report.checks[0]!.detail).toMatch(/ETIMEOUT/);
  }, 15_000);

  it('refuses a wrong command line with exit code 2', async () => {
    const cases: [string[], RegExp][] = [
      [['doctor'], /--domain is required/],
      [['doctor', '--domain', 'not a domain'], /--domain must be a domain name/],
      [['doctor', '--domain', 'good.example', '--format', 'xml'], /--format must be text or json/],
      [['doctor', '--domain', 'good.example', '--locale', 'fr'], /--locale must be one of en, ja/],
      [['doctor', '--domain', 'good.example', '--strategy', 'smtp'], /--strategy must be one of/],
      [['doctor', '--domain', 'good.example', '--strategy', 'oauth2', '--preset', 'sendgrid'], /--preset goes with --strategy relay/],
      [['doctor', '--domain', 'good.example', '--strategy', 'relay', '--preset', 'acme'], /--preset must be one of sendgrid, ses/],
      [['doctor', '--domain', 'good.example', '--config', 'x.json', '--strategy', 'oauth2'], /either --config or --strategy/],
      [['doctor', '--domain', 'good.example', '--dns-server', 'dns.google'], /--dns-server must be an IP address/],
      [['doctor', '--domain', 'good.example', '--dkim-selector', 'a b'], /--dkim-selector must be a DNS label/],
    ];
    for (const [args, message] of cases) {
      const result = await run(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(message);
    }
    const help = await run(['doctor', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--dkim-selector S/);
  });

  describe('verify --doctor', () => {
    let smtp: RecordingServer;
    beforeAll(async () => {
      smtp = await startRecordingServer({ secure: true });
      await writeFile(join(dir, 'ca.pem'), smtp.cert);
      for (const domain of ['good.example', 'nodmarc.example']) {
        await writeFile(
          join(dir, `${domain}.json`),
          JSON.stringify({
            strategy: 'app-password',
            user: `me@${domain}`,
            appPassword: { env: 'TEST_APP_PASSWORD' },
            smtp: { host: '127.0.0.1', port: smtp.port, secure: true, tls: { ca: [{ file: 'ca.pem' }] } },
          }),
        );
      }
    });
    afterAll(() => smtp.close());

    it("verifies the login, then checks the sender's domain for that route", async () => {
      const env = { TEST_APP_PASSWORD: APP_PASSWORD };
      const good = await run(['verify', '--config', join(dir, 'good.example.json'), '--doctor', '--dns-server', dns.address], env);
      expect(good.stderr).toBe('');
      expect(good.code).toBe(0);
      expect(good.stdout).toMatch(/verify: OK \(strategy app-password, user me@good\.example\)/);
      expect(good.stdout).toContain('gmail-transport doctor: good.example (route: app-password (include:_spf.google.com))');
      expect(good.stdout).toContain('5,000+ a day: PASS');

      const bad = await run(['verify', '--config', join(dir, 'nodmarc.example.json'), '--doctor', '--dns-server', dns.address, '--json'], env);
      expect(bad.code).toBe(1);
      const json = JSON.parse(bad.stdout) as { ok: boolean; doctor: { domain: string; verdicts: { bulkSenders: { missing: string[] } } } };
      expect(json.ok).toBe(true);
      expect(json.doctor.domain).toBe('nodmarc.example');
      expect(json.doctor.verdicts.bulkSenders.missing).toEqual(['dmarc']);
      expect(bad.stdout).not.toContain(APP_PASSWORD);
    });

    it('refuses --dns-server without --doctor, and --doctor without a sender domain, with exit code 2', async () => {
      const noDoctor = await run(['verify', '--config', join(dir, 'good.example.json'), '--dns-server', dns.address]);
      expect(noDoctor.code).toBe(2);
      expect(noDoctor.stderr).toMatch(/--dns-server goes with --doctor/);
      await writeFile(
        join(dir, 'nouser.json'),
        JSON.stringify({ strategy: 'relay', host: '127.0.0.1', port: smtp.port, secure: true, smtp: { tls: { ca: [{ file: 'ca.pem' }] } } }),
      );
      const noDomain = await run(['verify', '--config', join(dir, 'nouser.json'), '--doctor']);
      expect(noDomain.code).toBe(2);
      expect(noDomain.stderr).toMatch(/--doctor needs the sender's domain: give --from/);
    });
  });
});
