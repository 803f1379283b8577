import { describe, expect, it } from 'vitest';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { createServer, connect } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { generateSelfSignedCertificate } from '../../src/bridge/self-signed.js';

describe('self-signed certificate (DER built with node:crypto)', () => {
  it('is a parseable X.509 v3 server certificate for every name and address, valid ten years', async () => {
    const now = new Date('2026-03-02T09:00:00Z');
    const { key, cert } = await generateSelfSignedCertificate({ names: ['bridge.office.lan', '192.168.10.2', 'fd00::2', 'localhost'], now });
    const x509 = new X509Certificate(cert);
    expect(x509.subject).toBe('CN=bridge.office.lan');
    expect(x509.issuer).toBe(x509.subject);
    expect(x509.subjectAltName).toBe('DNS:bridge.office.lan, IP Address:192.168.10.2, IP Address:FD00:0:0:0:0:0:0:2, DNS:localhost');
    expect(x509.ca).toBe(false);
    expect(x509.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(x509.publicKey.asymmetricKeyType).toBe('rsa');
    expect(x509.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(x509.checkPrivateKey(createPrivateKey(key))).toBe(true);
    expect(x509.verify(x509.publicKey)).toBe(true);
    expect(Date.parse(x509.validFrom)).toBe(now.getTime() - 86_400_000);
    expect(Date.parse(x509.validTo)).toBe(now.getTime() + 3650 * 86_400_000);
    expect(x509.checkIP('192.168.10.2')).toBe('192.168.10.2');
    expect(x509.checkHost('bridge.office.lan')).toBe('bridge.office.lan');
  });

  it('uses GeneralizedTime past 2049 and a fresh serial each time', async () => {
    const a = await generateSelfSignedCertificate({ names: ['a.lan'], now: new Date('2045-01-01T00:00:00Z') });
    const b = await generateSelfSignedCertificate({ names: ['a.lan'], now: new Date('2045-01-01T00:00:00Z') });
    const x = new X509Certificate(a.cert);
    expect(Date.parse(x.validTo)).toBe(Date.parse('2045-01-01T00:00:00Z') + 3650 * 86_400_000);
    expect(x.serialNumber).not.toBe(new X509Certificate(b.cert).serialNumber);
  });

  it('a TLS client that trusts (pins) it completes the handshake', async () => {
    const { key, cert } = await generateSelfSignedCertificate({ names: ['localhost', '127.0.0.1'] });
    const server = createServer({ key, cert }, (socket) => socket.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    const authorized = await new Promise<boolean>((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1', ca: [cert] }, () => {
        resolve(socket.authorized);
        socket.end();
      });
      socket.once('error', reject);
    });
    expect(authorized).toBe(true);
    await new Promise<void>((r) => server.close(() => r()));
  });
});
