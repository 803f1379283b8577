import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGmailTransport, loadConfig, resolveConfig, type GmailTransportConfig } from '../../src/index.js';
import { verifyDkim } from '../helpers/dkim-verify.js';
import { rsaKey, type TestKey } from '../helpers/doctor-zones.js';
import { startRecordingServer, type RecordingServer } from '../helpers/smtp-server.js';

describe('the dkim option', () => {
  let server: RecordingServer;
  let key: TestKey;
  let other: TestKey;
  let dir: string;

  beforeAll(async () => {
    server = await startRecordingServer({ secure: true });
    key = rsaKey(2048);
    other = rsaKey(2048);
    dir = await mkdtemp(join(tmpdir(), 'gmail-transport-dkim-'));
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const relay = (dkim: unknown): GmailTransportConfig =>
    ({
      strategy: 'relay',
      host: '127.0.0.1',
      port: server.port,
      secure: true,
      auth: { user: 'mailer', pass: 'FAKE-RELAY-PASS-0a7e' },
      smtp: { tls: { ca: [server.cert] } },
      retry: false,
      dkim,
    }) as GmailTransportConfig;

  it("signs each message with nodemailer's signer; the server receives a signature that verifies with the public key", async () => {
    const mailer = createGmailTransport(relay({ domainName: 'signed.example', keySelector: 'mail2026', privateKey: key.pem }));
    try {
      await mailer.sendMail({ from: 'app@signed.example', to: 'you@example.net', subject: 'Signed', text: 'Hello,\r\nthis body is signed.\r\n' });
    } finally {
      mailer.close();
    }
    const got = server.messages.at(-1)!;
    const result = verifyDkim(got.raw, key.publicKey);
    expect(result.tags).toMatchObject({ d: 'signed.example', s: 'mail2026', a: 'rsa-sha256' });
    expect(result.bodyHashMatches).toBe(true);
    expect(result.valid).toBe(true);
    // The same check fails on a changed body, and with another key: it can fail.
    const tampered = Buffer.from(got.raw.toString('binary').replace('this body is signed', 'this body is changed'), 'binary');
    expect(verifyDkim(tampered, key.publicKey).valid).toBe(false);
    expect(verifyDkim(got.raw, other.publicKey).valid).toBe(false);
  });

  it("sends unsigned without the option, and leaves a message's own dkim to nodemailer", async () => {
    const plain = createGmailTransport(relay(undefined));
    await plain.sendMail({ from: 'app@signed.example', to: 'you@example.net', subject: 'Plain', text: 'x' }).finally(() => plain.close());
    expect(server.messages.at(-1)!.raw.toString()).not.toMatch(/^DKIM-Signature:/im);

    const mailer = createGmailTransport(relay({ domainName: 'signed.example', keySelector: 'mail2026', privateKey: key.pem }));
    await mailer
      .sendMail({
        from: 'app@other.example',
        to: 'you@example.net',
        subject: 'Own',
        text: 'x',
        dkim: { domainName: 'other.example', keySelector: 'own', privateKey: other.pem },
      })
      .finally(() => mailer.close());
    const result = verifyDkim(server.messages.at(-1)!.raw, other.publicKey);
    expect(result.tags).toMatchObject({ d: 'other.example', s: 'own' });
    expect(result.valid).toBe(true);
  });

  it('reads the key through loadConfig from a file or from an environment variable with \\n escapes', async () => {
    await writeFile(join(dir, 'dkim.pem'), `${key.pem}\n`);
    const base = { strategy: 'relay', host: '127.0.0.1', port: server.port, secure: true, smtp: { tls: { ca: [server.cert] } }, retry: false };
    const fromFile = await loadConfig(
      { ...base, dkim: { domainName: 'signed.example', keySelector: 'mail2026', privateKey: { file: 'dkim.pem' } } },
      { cwd: dir },
    );
    const fromEnv = await loadConfig(
      { ...base, dkim: { domainName: 'signed.example', keySelector: 'mail2026', privateKey: { env: 'DKIM_PRIVATE_KEY' } } },
      { env: { DKIM_PRIVATE_KEY: key.pem.trim().replace(/\n/g, '\\n') } },
    );
    for (const config of [fromFile, fromEnv]) {
      const mailer = createGmailTransport(config);
      await mailer.sendMail({ from: 'app@signed.example', to: 'you@example.net', subject: 'Loaded', text: 'x' }).finally(() => mailer.close());
      expect(verifyDkim(server.messages.at(-1)!.raw, key.publicKey).valid).toBe(true);
    }
  });

  it('is accepted by every strategy, holds the key as a secret, and belongs on the failover itself', () => {
    const dkim = { domainName: 'example.com', keySelector: 'sel', privateKey: key.pem };
    const configs: GmailTransportConfig[] = [
      { strategy: 'app-password', user: 'me@example.com', appPassword: 'abcd efgh ijkl mnop', dkim },
      {
        strategy: 'oauth2',
        user: 'me@example.com',
        clientId: 'id.apps.googleusercontent.com',
        clientSecret: 'FAKE-SECRET-1',
        refreshToken: 'FAKE-REFRESH-1',
        dkim,
      },
      { strategy: 'service-account', user: 'me@example.com', serviceAccount: { client_email: 'sa@p.iam.gserviceaccount.com', private_key: other.pem }, dkim },
      { strategy: 'ip-relay', domain: 'example.com', dkim },
      { strategy: 'relay', host: 'smtp.example.net', dkim },
      {
        strategy: 'gmail-api',
        user: 'me@example.com',
        clientId: 'id.apps.googleusercontent.com',
        clientSecret: 'FAKE-SECRET-1',
        refreshToken: 'FAKE-REFRESH-1',
        dkim,
      },
      { strategy: 'failover', transports: [{ strategy: 'relay', host: 'smtp.example.net' }], dkim },
    ];
    const body = key.pem.split('\n')[1]!;
    for (const config of configs) {
      const resolved = resolveConfig(config);
      expect(resolved.dkim, config.strategy).toMatchObject({ domainName: 'example.com', keySelector: 'sel' });
      expect(resolved.dkim!.privateKey.reveal()).toBe(key.pem);
      expect(inspect(resolved, { depth: 5 })).not.toContain(body);
      expect(JSON.stringify(resolved)).not.toContain(body);
    }
    expect(() => resolveConfig({ strategy: 'failover', transports: [{ strategy: 'relay', host: 'smtp.example.net', dkim }] })).toThrow(
      /transports\[0\]\.dkim belongs on the failover config itself/,
    );
  });

  it('refuses an unusable key by field, never quoting it', () => {
    const marker = 'FAKE-DKIM-PRIVATE-KEY-77c1';
    const short = rsaKey(768);
    const cases: [unknown, RegExp][] = [
      [{ domainName: 'example.com', keySelector: 'sel', privateKey: marker }, /dkim\.privateKey is not a PEM private key/],
      [{ domainName: 'example.com', keySelector: 'sel', privateKey: short.pem }, /dkim\.privateKey must be at least 1024 bits/],
      [
        { domainName: 'not a domain', keySelector: 'a b', privateKey: key.pem },
        /dkim\.domainName must be a domain name.*dkim\.keySelector must be a DNS label/,
      ],
      [{ domainName: 'example.com', keySelector: 'sel', privateKey: key.pem, hashAlgo: 'sha1' }, /dkim\.hashAlgo is not a known option/],
      ['yes', /dkim must be an object/],
    ];
    for (const [dkim, message] of cases) {
      let caught: unknown;
      try {
        createGmailTransport(relay(dkim));
      } catch (err) {
        caught = err;
      }
      expect((caught as { code?: string }).code).toBe('CONFIG_INVALID');
      expect(String(caught)).toMatch(message);
      for (const text of [String(caught), JSON.stringify(caught), inspect(caught)]) {
        expect(text).not.toContain(marker);
        expect(text).not.toContain(key.pem.split('\n')[1]);
      }
    }
  });
});
