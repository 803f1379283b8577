import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type GmailTransportError } from '../../src/index.js';
import { createBridge } from '../../src/bridge/index.js';
import { fastHash } from '../helpers/bridge.js';
import { RawSmtpClient } from '../helpers/printer.js';

const upstream = { strategy: 'app-password', user: 'scans@example.com', appPassword: 'abcd efgh ijkl mnop' } as const;

describe('tls.selfSigned: the certificate kept beside the config', () => {
  let dir: string;
  let hash: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bridge-cert-'));
    hash = await fastHash('pw');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const start = async (baseDir: string) => {
    const lines: Record<string, unknown>[] = [];
    const bridge = createBridge({
      listen: { port: 0 },
      tls: { selfSigned: true },
      accounts: [{ user: 'printer', passwordHash: hash }],
      upstream,
      baseDir,
      logger: { info: (r) => lines.push(r), warn: (r) => lines.push(r) },
    });
    const [address] = await bridge.listen();
    return { bridge, port: address!.port, lines };
  };

  it('is generated on first start, written with a private key file only its owner can read, and offered for STARTTLS', async () => {
    const { bridge, port, lines } = await start(dir);
    const cert = await readFile(join(dir, 'gmail-transport-bridge.crt'), 'utf8');
    expect((await stat(join(dir, 'gmail-transport-bridge.key'))).mode & 0o777).toBe(0o600);
    const x509 = new X509Certificate(cert);
    expect(x509.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(lines.find((l) => l.event === 'self-signed')).toMatchObject({ certificate: join(dir, 'gmail-transport-bridge.crt'), sha256: x509.fingerprint256 });
    // A device that pinned this certificate gets through STARTTLS and sees AUTH.
    const client = await RawSmtpClient.connect(port);
    await client.read();
    await client.command('EHLO printer.local');
    expect(await client.startTls(cert)).toMatch(/^220 /);
    expect(await client.command('EHLO printer.local')).toMatch(/AUTH PLAIN LOGIN/);
    client.close();
    await bridge.close();
  });

  it('is the same certificate after a restart, so pinned devices keep working', async () => {
    const before = await readFile(join(dir, 'gmail-transport-bridge.crt'), 'utf8');
    const { bridge, lines } = await start(dir);
    expect(await readFile(join(dir, 'gmail-transport-bridge.crt'), 'utf8')).toBe(before);
    expect(lines.some((l) => l.event === 'self-signed')).toBe(false);
    await bridge.close();
  });

  it('refuses to replace a certificate whose key went missing', async () => {
    await unlink(join(dir, 'gmail-transport-bridge.key'));
    const bridge = createBridge({
      listen: { port: 0 },
      tls: { selfSigned: true },
      accounts: [{ user: 'printer', passwordHash: hash }],
      upstream,
      baseDir: dir,
    });
    const err = (await bridge.listen().catch((e: unknown) => e)) as GmailTransportError;
    expect(err).toMatchObject({ code: 'CONFIG_INVALID', issues: [{ path: 'tls.selfSigned', message: expect.stringMatching(/delete both/) }] });
    expect(bridge.addresses).toEqual([]);
    await bridge.close();
  });
});
