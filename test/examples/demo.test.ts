import { describe, expect, it } from 'vitest';
import { createTransport } from 'nodemailer';
import { createGmailTransport, isGmailTransportError } from '../../src/index.js';
import { entries, type DemoEntry } from '../../examples/demo/entries.js';
import { NEXT_STEPS, runDemo } from '../../examples/demo/run.js';
import { startGoogleStandIn } from '../../examples/demo/google.js';
import { makeCertificate, startSmtpServer } from '../../examples/demo/server.js';
import { runTsx } from './run.js';

// Every fake secret the demo uses; none may be printed.
const DEMO_SECRETS = [
  'demo-client-secret',
  'demo-refresh-token',
  'demo-api-refresh-token',
  'SG.demo-not-a-real-key',
  'abcdefghijklmnop',
  'demo-printer-password-3f',
  'PRIVATE KEY',
  'ya29.local',
];

describe('npm run demo', () => {
  it('delivers every entry, prints what the servers saw, and exits 0', async () => {
    const { code, stdout, stderr } = await runTsx(['examples/demo.ts'], { timeoutMs: 60_000 });
    // Not empty-checked: a Node version may print a deprecation warning of a dependency there.
    expect(stderr).not.toMatch(/demo failed|giving up/);
    expect(code).toBe(0);
    expect(entries.map((e) => e.name)).toEqual(['app-password', 'ip-relay', 'relay', 'oauth2', 'service-account', 'gmail-api', 'failover', 'bridge']);
    entries.forEach((entry, i) => expect(stdout).toContain(`${i + 1}. ${entry.name}: `));
    expect(stdout).not.toContain('FAILED');
    // The summary, then two lines on what to do next (issue 19).
    expect(stdout.trimEnd().split('\n').slice(-4)).toEqual([`${entries.length} deliveries, all received.`, '', ...NEXT_STEPS]);
    expect(NEXT_STEPS[0]).toMatch(/Which strategy do I need\?/);
    expect(NEXT_STEPS[1]).toMatch(/npx gmail-transport verify --config/);

    const section = (name: string) => stdout.slice(stdout.indexOf(`. ${name}: `)).split('\n\n')[0]!;
    expect(section('oauth2')).toMatch(/AUTH {8}XOAUTH2 as me@gmail\.com, access token from the local token endpoint \(refresh_token grant\)/);
    expect(section('oauth2')).toMatch(
      /token {7}refresh_token grant: client demo\.apps\.googleusercontent\.com, user me@gmail\.com, scope https:\/\/mail\.google\.com\//,
    );
    expect(section('service-account')).toMatch(/AUTH {8}XOAUTH2 as sales@example\.com, access token from the local token endpoint \(jwt-bearer grant\)/);
    expect(section('service-account')).toMatch(/jwt-bearer grant: iss mailer@demo-project\.iam\.gserviceaccount\.com, sub sales@example\.com/);
    expect(section('gmail-api')).toMatch(
      /received at POST http:\/\/127\.0\.0\.1:\d+\/gmail\/v1\/users\/me%40example\.com\/messages\/send \(standing in for https:\/\/gmail\.googleapis\.com\)/,
    );
    expect(section('gmail-api')).toContain('subject     Hello through gmail-api');
    expect(section('gmail-api')).toContain('To header   you@example.org');
    expect(section('gmail-api')).toContain('Bcc header  present in raw: auditor@example.org');
    expect(section('failover')).toContain('failover: route 0 (oauth2) failed with QUOTA_EXCEEDED; trying route 1 (relay)');
    expect(section('failover')).toContain('delivered by route 1 (relay), after failing over');
    expect(section('failover')).toMatch(
      /refused {5}at 127\.0\.0\.1:\d+ \(standing in for smtp\.gmail\.com:465\): 550 5\.4\.5 Daily user sending quota exceeded/,
    );
    expect(section('failover')).toContain('AUTH        PLAIN as apikey');
    expect(section('bridge')).toContain('bridge:  250 2.0.0 Accepted by upstream');
    expect(section('bridge')).toMatch(/envelope {4}scans@example\.com -> alice@example\.com/);
    for (const secret of DEMO_SECRETS) expect(stdout).not.toContain(secret);
  }, 60_000);

  it('reports a delivery that fails and counts it, and carries on with the next', async () => {
    const lines: string[] = [];
    const revoked: DemoEntry = {
      name: 'oauth2 (revoked)',
      about: 'a refresh token the token endpoint does not know',
      setup: ({ implicitTls, google }) => {
        google.registerRefreshToken({
          user: 'me@gmail.com',
          clientId: 'revoked.apps.googleusercontent.com',
          clientSecret: 'FAKE-SECRET-9c1d',
          refreshToken: 'FAKE-REFRESH-right-9c1d',
          scopes: ['https://mail.google.com/'],
        });
        return {
          config: {
            strategy: 'oauth2',
            user: 'me@gmail.com',
            clientId: 'revoked.apps.googleusercontent.com',
            clientSecret: 'FAKE-SECRET-9c1d',
            refreshToken: 'FAKE-REFRESH-wrong-9c1d',
            endpoints: { token: google.tokenUrl },
            smtp: implicitTls.smtp,
          },
          message: { from: 'me@gmail.com', to: 'you@example.com' },
          inbox: implicitTls,
        };
      },
    };
    const result = await runDemo({ entries: [revoked, entries[0]!], print: (line) => lines.push(line) });
    expect(result).toEqual({ total: 2, failed: ['oauth2 (revoked)'] });
    const output = lines.join('\n');
    expect(output).toContain('   FAILED      OAUTH_INVALID_GRANT: ');
    expect(output).toContain('subject     Hello through app-password');
    expect(output).toContain('1 of 2 deliveries failed: oauth2 (revoked).');
    expect(output).not.toContain('FAKE-SECRET-9c1d');
    expect(output).not.toContain('FAKE-REFRESH-wrong-9c1d');
  });
});

describe('the demo stand-ins', () => {
  it('the SMTP server takes over XOAUTH2 only tokens the token endpoint issued, for their own user', async () => {
    const google = await startGoogleStandIn();
    const certificate = await makeCertificate();
    const smtp = await startSmtpServer({ secure: true, ...certificate, checkAccessToken: google.describeToken });
    try {
      google.registerRefreshToken({
        user: 'a@example.com',
        clientId: 'c.apps.googleusercontent.com',
        clientSecret: 'FAKE-SECRET-1',
        refreshToken: 'FAKE-REFRESH-1',
        scopes: ['https://mail.google.com/'],
      });
      const issued = (await (
        await fetch(google.tokenUrl, {
          method: 'POST',
          body: new URLSearchParams({
            grant_type: 'refresh_token',
            client_id: 'c.apps.googleusercontent.com',
            client_secret: 'FAKE-SECRET-1',
            refresh_token: 'FAKE-REFRESH-1',
          }),
        })
      ).json()) as { access_token: string; scope: string };
      expect(issued.scope).toBe('https://mail.google.com/');
      const send = (user: string, accessToken: string) =>
        createTransport({ ...smtp.smtp, auth: { type: 'OAuth2', user, accessToken } }).sendMail({
          from: user,
          to: 'b@example.org',
          subject: `as ${user} with ${accessToken.slice(0, 12)}`,
          text: 'x',
        });
      await expect(send('a@example.com', 'ya29.forged-token')).rejects.toMatchObject({ code: 'EAUTH', responseCode: 535 });
      await expect(send('other@example.com', issued.access_token)).rejects.toMatchObject({ code: 'EAUTH', responseCode: 535 });
      await send('a@example.com', issued.access_token);
      expect(smtp.received.map((s) => s.auth)).toEqual(['XOAUTH2 as a@example.com, access token from the local token endpoint (refresh_token grant)']);
    } finally {
      await Promise.all([smtp.close(), google.close()]);
    }
  });

  it('the token endpoint refuses a wrong client secret, and a service account acting for a mailbox outside its domain', async () => {
    const google = await startGoogleStandIn();
    const certificate = await makeCertificate();
    const smtp = await startSmtpServer({ secure: true, ...certificate, checkAccessToken: google.describeToken });
    const { generateKeyPairSync } = await import('node:crypto');
    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    google.registerServiceAccount({ clientEmail: 'sa@p.iam.gserviceaccount.com', publicKey, domain: 'example.com' });
    google.registerRefreshToken({
      user: 'a@example.com',
      clientId: 'c2.apps.googleusercontent.com',
      clientSecret: 'FAKE-SECRET-2',
      refreshToken: 'FAKE-REFRESH-2',
      scopes: ['https://mail.google.com/'],
    });
    try {
      const wrongSecret = createGmailTransport({
        strategy: 'oauth2',
        user: 'a@example.com',
        clientId: 'c2.apps.googleusercontent.com',
        clientSecret: 'FAKE-SECRET-wrong',
        refreshToken: 'FAKE-REFRESH-2',
        endpoints: { token: google.tokenUrl },
        smtp: smtp.smtp,
      });
      const outsider = createGmailTransport({
        strategy: 'service-account',
        user: 'someone@other.org',
        serviceAccount: { type: 'service_account', client_email: 'sa@p.iam.gserviceaccount.com', private_key: privateKey },
        endpoints: { token: google.tokenUrl },
        smtp: smtp.smtp,
      });
      const mail = { from: 'a@example.com', to: 'b@example.org', subject: 'x', text: 'x' };
      const errors = await Promise.all([wrongSecret.sendMail(mail).catch((e: unknown) => e), outsider.sendMail(mail).catch((e: unknown) => e)]);
      expect(errors.map((e) => isGmailTransportError(e) && e.code)).toEqual(['OAUTH_INVALID_CLIENT', 'OAUTH_SCOPE_DENIED']);
      expect(google.grants).toEqual([]);
      expect(smtp.received).toEqual([]);
      wrongSecret.close();
      outsider.close();
    } finally {
      await Promise.all([smtp.close(), google.close()]);
    }
  });
});
