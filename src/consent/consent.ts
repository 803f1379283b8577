import { errorFor } from '../errors/map-error.js';
import { diagnosisOf, type Diagnosis } from '../errors/diagnosis.js';
import { Secret } from '../core/secret.js';
import { grantedAccount, sameAccount } from './account.js';
import type { ClientCredentials } from './client-file.js';
import { GMAIL_SCOPE, type ConsentOutcome } from './loopback.js';
import { exchangeCode, type ExchangedTokens } from './token-exchange.js';

/**
 * Google's consent for a user's refresh token, as the `auth` command and the bridge console's
 * Connect Google both run it: the answer at the loopback redirect, the code exchange, and the
 * check of which account granted access.
 */

export const DEFAULT_AUTH_ENDPOINT = 'https://accounts.google.com/o/oauth2/v2/auth';
export const DEFAULT_TOKEN_ENDPOINT = 'https://oauth2.googleapis.com/token';

export async function completeConsent(
  outcome: ConsentOutcome,
  ctx: { client: ClientCredentials; pkce: Secret; redirectUri: string; tokenEndpoint: string },
): Promise<{ refreshToken: string; accessToken?: Secret; scope?: string } | Diagnosis> {
  if (outcome.kind === 'timeout') {
    return {
      code: 'CONSENT_TIMEOUT',
      message: 'No answer from Google reached the redirect URI in time',
      hint: 'Open the URL and finish the consent before the timeout (or raise --timeout). If Google showed "redirect_uri_mismatch", the client is not a "Desktop app" client; if it showed "access blocked", add the account as a test user of the app.',
    };
  }
  if (outcome.kind === 'error') {
    // https://developers.google.com/identity/protocols/oauth2/native-app#handlingresponse: `access_denied` when the user declines.
    const reason = /^[a-z_]{1,64}$/.test(outcome.error) ? outcome.error : 'unknown';
    return diagnosisOf(
      errorFor('OAUTH_SCOPE_DENIED', { variant: 'consent', strategy: 'oauth2', phase: 'token', reason, message: `Google did not grant access (${reason})` }),
    );
  }
  let tokens: ExchangedTokens;
  try {
    tokens = await exchangeCode({
      clientId: ctx.client.clientId,
      clientSecret: ctx.client.clientSecret,
      code: new Secret(outcome.code),
      codeVerifier: ctx.pkce,
      redirectUri: ctx.redirectUri,
      tokenEndpoint: ctx.tokenEndpoint,
    });
  } catch (err) {
    return diagnosisOf(err);
  }
  // Granular consent lets the user untick Gmail while granting the rest: the token would then
  // be refused by SMTP with a 535 long after this command said "done".
  if (tokens.scope !== undefined && !tokens.scope.split(' ').includes(GMAIL_SCOPE)) {
    return diagnosisOf(
      errorFor('OAUTH_SCOPE_DENIED', {
        variant: 'consent',
        strategy: 'oauth2',
        phase: 'token',
        message: 'The consent did not include https://mail.google.com/',
      }),
    );
  }
  if (!tokens.refreshToken) {
    return {
      code: 'NO_REFRESH_TOKEN',
      message: 'Google returned an access token but no refresh token',
      hint: "Remove the app's access at https://myaccount.google.com/permissions and run the command again (it asks with prompt=consent, which normally always yields one).",
    };
  }
  return {
    refreshToken: tokens.refreshToken,
    ...(tokens.accessToken ? { accessToken: tokens.accessToken } : {}),
    ...(tokens.scope ? { scope: tokens.scope } : {}),
  };
}

/**
 * Asks Google which account granted access. With `--user`, another account, or no answer, is a
 * refusal: the token is not kept. Without it, the answer only fills the printed config.
 */
export async function checkAccount(accessToken: Secret | undefined, user: string | undefined): Promise<{ address?: string; warning?: string } | Diagnosis> {
  let address: string;
  try {
    if (!accessToken)
      throw errorFor('PERMANENT_FAILURE', { strategy: 'oauth2', phase: 'token', message: 'The token endpoint answered without an access token' });
    address = await grantedAccount(accessToken);
  } catch (err) {
    const cause = diagnosisOf(err);
    const facts = `${cause.code}: ${cause.message}`;
    if (!user) return { warning: `Note: could not ask Google which account granted access (${facts}); the printed config has a placeholder user.` };
    return {
      ...cause,
      code: 'ACCOUNT_UNCONFIRMED',
      message: `Could not confirm that ${user} granted access (${facts}); nothing was written`,
      hint: `${cause.hint ? `${cause.hint} ` : ''}The check reads the account's Gmail profile, which needs the Gmail API enabled in the client's Cloud project. Run again once it works, or run without --user, which skips the check.`,
    };
  }
  if (user && !sameAccount(user, address)) {
    return {
      code: 'ACCOUNT_MISMATCH',
      message: `Google granted access for ${address}, not for ${user}; nothing was written`,
      hint: `Run the command again and sign in as ${user} (the consent page lets you pick or add an account). If ${user} is an alias of ${address}, pass --user ${address}. To withdraw the access ${address} just granted, remove the app at https://myaccount.google.com/permissions while signed in as it.`,
    };
  }
  return { address };
}
