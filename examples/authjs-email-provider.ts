/**
 * Auth.js (NextAuth v5, @auth/core) e-mail sign-in ("magic links") sent through gmail-transport.
 * Auth.js's Nodemailer provider takes a `sendVerificationRequest`; this one sends the link with
 * our transporter, so token refresh, retries and typed errors apply to sign-in mail too.
 *
 *   // auth.ts in a Next.js app
 *   import NextAuth from 'next-auth';
 *   import Nodemailer from 'next-auth/providers/nodemailer';
 *   const mailer = createGmailTransport({ strategy: 'oauth2', user, clientId, clientSecret, refreshToken });
 *   export const { handlers, auth, signIn } = NextAuth({
 *     adapter, // e-mail sign-in needs a database adapter for its verification tokens
 *     providers: [Nodemailer(gmailSignInEmail(mailer, { from: 'Example <me@example.com>' }))],
 *   });
 *
 *   npm run example -- authjs-email-provider   # sends one sign-in link to the local stand-ins
 */
import { createGmailTransport, type GmailTransporter } from '../src/index.js'; // 'gmail-transport' in your app
import { isMain, openExampleTarget } from './lib/target.js';

/**
 * The part of Auth.js's `sendVerificationRequest` parameters this sender reads (@auth/core's
 * `NodemailerConfig['sendVerificationRequest']` also passes `token`, `theme` and `request`).
 */
export interface VerificationRequest {
  /** The address that asked to sign in. */
  identifier: string;
  /** The one-time sign-in link. */
  url: string;
  expires: Date;
  provider: { from?: string };
}

/**
 * Options for Auth.js's Nodemailer provider. `server` is required by the provider; our transport
 * object is a nodemailer transport, so even the provider's default sender would go through it.
 */
export function gmailSignInEmail(mailer: GmailTransporter, options: { from: string }) {
  return {
    from: options.from,
    server: mailer.transporter,
    async sendVerificationRequest({ identifier, url, expires, provider }: VerificationRequest): Promise<void> {
      const { host } = new URL(url);
      const minutes = Math.max(1, Math.round((expires.getTime() - Date.now()) / 60_000));
      const info = await mailer.sendMail({
        from: provider.from ?? options.from,
        to: identifier,
        subject: `Sign in to ${host}`,
        text: `Sign in to ${host}:\n${url}\n\nThe link works once, for ${minutes} minutes. If you did not ask for it, ignore this message.\n`,
        html: `<p>Sign in to <strong>${escapeHtml(host)}</strong>:</p><p><a href="${escapeHtml(url)}">Sign in</a></p><p>The link works once, for ${minutes} minutes. If you did not ask for it, ignore this message.</p>`,
      });
      // Auth.js's own sender fails the sign-in when a recipient was refused; so does this one.
      const refused = [...(info.rejected ?? []), ...(info.pending ?? [])];
      if (refused.length > 0) throw new Error(`Email (${refused.join(', ')}) could not be sent`);
    },
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export async function main(): Promise<void> {
  const target = await openExampleTarget();
  const credentials = target.oauth2();
  const mailer = createGmailTransport({ strategy: 'oauth2', ...credentials, ...target.overrides.gmailSmtp });
  try {
    const provider = gmailSignInEmail(mailer, { from: `Example <${credentials.user}>` });
    // What Auth.js does when someone submits the sign-in form.
    await provider.sendVerificationRequest({
      identifier: target.to(),
      url: `https://app.example.com/api/auth/callback/nodemailer?token=example-one-time-token&email=${encodeURIComponent(target.to())}`,
      expires: new Date(Date.now() + 24 * 3_600_000),
      provider: { from: provider.from },
    });
    console.log(`Sign-in link sent to ${target.to()}`);
  } finally {
    mailer.close();
    await target.close();
  }
}

if (isMain(import.meta.url)) await main();
