import { testCert, type TestCert } from '../../test/helpers/certs.js';

export type BenchCert = TestCert;

/**
 * The test suite's self-signed certificate for 127.0.0.1 (made at run time, nothing secret is
 * committed): EC P-256, as most TLS servers use today; clients trust it with `tls: { ca: [cert] }`.
 */
export function makeCert(): Promise<BenchCert> {
  return testCert();
}
