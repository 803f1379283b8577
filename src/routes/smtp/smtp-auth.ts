import { carryError, errorFor } from '../../errors/map-error.js';
import { ERROR_MEANINGS } from '../../errors/catalog.js';
import type { Locale } from '../../errors/hints.js';
import type { SmtpAuth, SmtpEndpoint } from '../../core/smtp-plan.js';

/** A reply as nodemailer's custom auth `sendCommand` resolves it. */
interface CommandReply {
  response: string;
}

/** What nodemailer's SMTPConnection hands a `customAuth` handler (see its `login()`). */
interface AuthHandlerContext {
  auth: {
    user?: string;
    credentials?: { user: string; pass: string };
    oauth2?: {
      getToken(renew: boolean, callback: (err: Error | null, token?: string) => void): void;
      buildXOAuth2Token(token: string): string;
    };
  };
  method: string;
  /** The mechanisms the server advertised in EHLO that nodemailer knows. */
  authMethods: readonly string[];
  sendCommand(command: string): Promise<CommandReply>;
}

type AuthHandler = (ctx: AuthHandlerContext) => Promise<void>;

/** The mechanisms our credentials log in with: passwords use PLAIN or LOGIN, tokens XOAUTH2. */
type Mechanism = 'PLAIN' | 'LOGIN' | 'XOAUTH2';

/**
 * nodemailer options that make a login with configured credentials happen or fail, never be
 * skipped. nodemailer logs in only when the server's EHLO lists AUTH, and otherwise sends the
 * message without logging in: a config with credentials pointed at the wrong server (or at an
 * IP-based relay) would then "verify" and deliver without the login it asked for. With
 * `forceAuth` nodemailer always calls the login; these handlers then check that the server
 * offered the mechanism before sending anything, and fail with AUTH_UNAVAILABLE otherwise.
 *
 * The handlers replace nodemailer's own PLAIN, LOGIN and XOAUTH2 exchanges (a custom handler
 * cannot hand back to the built-in one), reproducing them: the same commands, and failures in
 * the same shape (EAUTH with the server's reply and `AUTH <method>` as the command), so the
 * reply tables read them as before. XOAUTH2 keeps nodemailer's one retry with a renewed token
 * after Google's 334 challenge (https://developers.google.com/workspace/gmail/imap/xoauth2-protocol).
 */
export function requiredAuthOptions(
  auth: SmtpAuth,
  endpoint: Pick<SmtpEndpoint, 'host' | 'port'>,
  context: { strategy: string; locale: Locale },
): { forceAuth: true; customAuth: Partial<Record<Mechanism, AuthHandler>> } {
  const needs = auth.kind === 'oauth2' ? 'XOAUTH2' : (auth.method ?? 'PLAIN or LOGIN');
  const unavailable = (offered: readonly string[]) =>
    errorFor('AUTH_UNAVAILABLE', {
      message: `${ERROR_MEANINGS.AUTH_UNAVAILABLE}: ${endpoint.host}:${endpoint.port} offered ${offered.length > 0 ? offered.join(', ') : 'none'}, these credentials need ${needs}`,
      strategy: context.strategy,
      phase: 'auth',
      locale: context.locale,
    });
  const gate = (method: Mechanism, exchange: AuthHandler): AuthHandler => {
    return async (ctx) => {
      if (!ctx.authMethods.includes(method)) throw carryError(unavailable(ctx.authMethods));
      await exchange(ctx);
    };
  };
  // Only the mechanisms of this kind of credentials: given a handler for XOAUTH2, nodemailer
  // would pick it for a password when the server offers nothing else.
  const customAuth: Partial<Record<Mechanism, AuthHandler>> =
    auth.kind === 'oauth2' ? { XOAUTH2: gate('XOAUTH2', xoauth2) } : { PLAIN: gate('PLAIN', plain), LOGIN: gate('LOGIN', login) };
  return { forceAuth: true, customAuth };
}

async function plain({ auth, sendCommand }: AuthHandlerContext): Promise<void> {
  const { user, pass } = credentialsOf(auth);
  await complete(await sendCommand(`AUTH PLAIN ${base64(`\u0000${user}\u0000${pass}`)}`), sendCommand);
}

async function login({ auth, sendCommand }: AuthHandlerContext): Promise<void> {
  const { user, pass } = credentialsOf(auth);
  expect334(await sendCommand('AUTH LOGIN'), '334 VXNlcm5hbWU6');
  expect334(await sendCommand(base64(user)), '334 UGFzc3dvcmQ6');
  await complete(await sendCommand(base64(pass)), sendCommand);
}

async function xoauth2({ auth, sendCommand }: AuthHandlerContext): Promise<void> {
  const oauth2 = auth.oauth2;
  if (!oauth2) throw new Error('Missing OAuth2 token source for "XOAUTH2"');
  for (const renew of [false, true]) {
    const token = await new Promise<string>((resolve, reject) => oauth2.getToken(renew, (err, t) => (err ? reject(err) : resolve(t ?? ''))));
    const reply = await sendCommand(`AUTH XOAUTH2 ${oauth2.buildXOAuth2Token(token)}`);
    if (statusOf(reply) !== 334) return succeeded(reply);
    // Google's error challenge: answer it with an empty line, read the final reply, and try
    // once more with a freshly refreshed token.
    const final = await sendCommand('');
    if (renew) return succeeded(final);
  }
}

function credentialsOf(auth: AuthHandlerContext['auth']): { user: string; pass: string } {
  const credentials = auth.credentials;
  if (!credentials?.user || !credentials.pass) throw new Error('Missing credentials');
  return credentials;
}

function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

function statusOf(reply: CommandReply): number {
  return Number(reply.response.slice(0, 3)) || 0;
}

function expect334(reply: CommandReply, waitingFor: string): void {
  if (statusOf(reply) !== 334) throw new Error(`Invalid login sequence while waiting for "${waitingFor}"`);
}

/** The last step of PLAIN or LOGIN: a 334 asks for more (answered with an empty line), 2xx is in. */
async function complete(reply: CommandReply, sendCommand: AuthHandlerContext['sendCommand']): Promise<void> {
  succeeded(statusOf(reply) === 334 ? await sendCommand('') : reply);
}

/** nodemailer adds the server's last reply to a rejected login's error (EAUTH, `AUTH <method>`). */
function succeeded(reply: CommandReply): void {
  if (statusOf(reply) < 200 || statusOf(reply) >= 300) throw new Error('Invalid login');
}
