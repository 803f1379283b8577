import type { CheckDomainOptions } from './check-domain.js';
import type { DoctorReport } from './report.js';

export type { CheckDomainOptions } from './check-domain.js';

/**
 * {@link checkDomain} as the package exports it: the doctor (its DNS client, record parsers and
 * messages in two languages) loads on the first call, so an application that only sends never
 * pays for it in start-up time or memory. Same contract as the function it loads.
 *
 * @throws GmailTransportError `CONFIG_INVALID` naming each invalid option, before any DNS query.
 */
export async function checkDomain(options: CheckDomainOptions): Promise<DoctorReport> {
  const doctor = await import('./check-domain.js');
  return doctor.checkDomain(options);
}
