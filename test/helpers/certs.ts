import { generate } from 'selfsigned';

export interface TestCert {
  key: string;
  cert: string;
}

let cached: Promise<TestCert> | undefined;

/**
 * A certificate for 127.0.0.1 and localhost, generated at test time (never committed). EC keys
 * take ~25 ms instead of RSA's ~170 ms; one per test process is enough.
 */
export function testCert(opts: { expired?: boolean; host?: string } = {}): Promise<TestCert> {
  if (!opts.expired && !opts.host && cached) return cached;
  const now = Date.now();
  const made = generate([{ name: 'commonName', value: opts.host ?? 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    ...(opts.expired ? { notBeforeDate: new Date(now - 10 * 86400_000), notAfterDate: new Date(now - 86400_000) } : {}),
    extensions: [
      { name: 'basicConstraints', cA: true },
      {
        name: 'subjectAltName',
        altNames: opts.host
          ? [{ type: 2, value: opts.host }]
          : [
              { type: 2, value: 'localhost' },
              { type: 7, ip: '127.0.0.1' },
            ],
      },
    ],
  }).then((pems) => ({ key: pems.private, cert: pems.cert }));
  if (!opts.expired && !opts.host) cached = made;
  return made;
}
