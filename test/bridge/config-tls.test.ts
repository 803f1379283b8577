import { describe, expect, it } from 'vitest';
import { connect } from 'node:tls';
import { createBridge } from '../../src/bridge/index.js';
import { testCert } from '../helpers/certs.js';

const upstream = { strategy: 'relay', host: '127.0.0.1', port: 1, secure: true } as const;

/** What an old printer's TLS 1.0 stack gets from the implicit-TLS port. */
async function tls10Handshake(minVersion?: 'TLSv1'): Promise<string> {
  const { key, cert } = await testCert();
  const bridge = createBridge({
    listen: { port: 0, tlsPort: 0 },
    tls: { key, cert, ...(minVersion ? { minVersion } : {}) },
    allowNetworks: ['127.0.0.1'],
    upstream,
  });
  const addresses = await bridge.listen();
  const port = addresses.find((a) => a.tls === 'implicit')!.port;
  try {
    return await new Promise<string>((resolve) => {
      const socket = connect(
        { port, host: '127.0.0.1', ca: [cert], servername: 'localhost', minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' },
        () => {
          resolve(socket.getProtocol() ?? 'unknown');
          socket.destroy();
        },
      );
      socket.once('error', () => resolve('refused'));
    });
  } finally {
    await bridge.close();
  }
}

describe('tls.minVersion for old printers', () => {
  it('refuses TLS 1.0 by default (TLSv1.2 minimum)', async () => {
    expect(await tls10Handshake()).toBe('refused');
  });

  it("accepts TLS 1.0 with minVersion: 'TLSv1' (OpenSSL's security level lowered for it)", async () => {
    expect(await tls10Handshake('TLSv1')).toBe('TLSv1');
  });
});
