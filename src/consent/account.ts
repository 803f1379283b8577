import { errorFor } from '../errors/map-error.js';
import { classifyGmailApiError, type GoogleErrorBody } from '../errors/map-http.js';
import { networkCode } from '../routes/gmail-api/http-client.js';
import type { Secret } from '../core/secret.js';
import { publicText } from '../core/untrusted-text.js';

/** users.getProfile of the token's own account; the scope https://mail.google.com/ may read it. */
export const GMAIL_PROFILE_URL = 'https://gmail.googleapis.com/gmail/v1/users/me/profile';

const PROFILE_TIMEOUT_MS = 15_000;

/**
 * The address of the account an access token belongs to, as the Gmail API's users.getProfile
 * tells it (https://developers.google.com/workspace/gmail/api/reference/rest/v1/users/getProfile).
 * The consent page lets the user pick any of their accounts, and a code can reach the redirect
 * URI from elsewhere: only Google can say whose token the exchange produced.
 *
 * @throws GmailTransportError CONNECTION_FAILED when the API cannot be reached; otherwise the
 *   Gmail API's answer classified as for sending (e.g. `OAUTH_INVALID_CLIENT` variant
 *   `api-disabled` when the project has not enabled the Gmail API), never with the token.
 */
export async function grantedAccount(accessToken: Secret): Promise<string> {
  const base = { strategy: 'oauth2', phase: 'api' as const };
  let response: Response;
  try {
    response = await fetch(GMAIL_PROFILE_URL, {
      headers: { authorization: `Bearer ${accessToken.reveal()}`, accept: 'application/json' },
      // Google's API does not redirect; a redirect would carry the token somewhere unasked.
      redirect: 'manual',
      signal: AbortSignal.timeout(PROFILE_TIMEOUT_MS),
    });
  } catch (err) {
    const code = networkCode(err);
    throw errorFor('CONNECTION_FAILED', { ...base, retryable: true, message: `Could not reach the Gmail API${code ? ` (${code})` : ''}` });
  }
  const body = (await response.json().catch(() => undefined)) as (GoogleErrorBody & { emailAddress?: unknown }) | undefined;
  const secrets = [accessToken.reveal()];
  if (response.ok) {
    const address = publicText(body?.emailAddress, secrets, 254);
    if (address !== undefined && /^[^\s@]+@[^\s@]+$/.test(address)) return address;
    throw errorFor('PERMANENT_FAILURE', { ...base, httpStatus: response.status, message: 'The Gmail API answered users.getProfile without an e-mail address' });
  }
  const classified = classifyGmailApiError(response.status, body);
  const reason = publicText(classified.reason, secrets, 64);
  const message = publicText(classified.message, secrets);
  throw errorFor(classified.code, {
    ...base,
    retryable: classified.retryable,
    httpStatus: response.status,
    ...(classified.variant ? { variant: classified.variant } : {}),
    ...(reason ? { reason } : {}),
    message: `The Gmail API answered users.getProfile with HTTP ${response.status}${reason ? ` ${reason}` : ''}${message ? `: ${message}` : ''}`,
  });
}

/**
 * Whether two addresses name the same Google account: case-insensitive, and for consumer Gmail
 * also without dots in the local part and with googlemail.com taken as gmail.com, as Google
 * routes them (https://support.google.com/mail/answer/7436150).
 */
export function sameAccount(a: string, b: string): boolean {
  return canonical(a) === canonical(b);
}

function canonical(address: string): string {
  const at = address.lastIndexOf('@');
  let local = address.slice(0, at).toLowerCase();
  let domain = address.slice(at + 1).toLowerCase();
  if (domain === 'googlemail.com') domain = 'gmail.com';
  if (domain === 'gmail.com') local = local.replace(/\./g, '');
  return `${local}@${domain}`;
}
