import { generate } from 'selfsigned';

export interface BenchCert {
  key: string;
  cert: string;
}

/**
 * A self-signed certificate for 127.0.0.1, made at run time (nothing secret is committed). EC
 * P-256, as most TLS servers use today; clients trust it with `tls: { ca: [cert] }`.
 */
export async function makeCert(): Promise<BenchCert> {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}
