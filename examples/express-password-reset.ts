/**
 * Express: a password-reset endpoint that mails a one-time link through Gmail (OAuth2).
 *
 *   GMAIL_USER=… GMAIL_CLIENT_ID=… GMAIL_CLIENT_SECRET=… GMAIL_REFRESH_TOKEN=… npx tsx examples/express-password-reset.ts
 *   curl -X POST localhost:3000/password-reset -H 'content-type: application/json' -d '{"email":"you@example.com"}'
 *
 *   npm run example -- express-password-reset   # against local stand-ins, one request, then exits
 */
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';
import { createGmailTransport, isGmailTransportError, type GmailTransportConfig } from '../src/index.js'; // 'gmail-transport' in your app
import { isMain, openExampleTarget } from './lib/target.js';

export interface PasswordResetOptions {
  mail: GmailTransportConfig;
  from: string;
  /** The site the link points to, e.g. `https://app.example.com`. */
  appUrl: string;
  /** Keeps the token's hash for the account with this address; `false` when there is none. */
  saveResetToken(email: string, tokenHash: string, expiresAt: Date): Promise<boolean>;
}

export function createPasswordResetApp(options: PasswordResetOptions): { app: Express; close(): void } {
  const mailer = createGmailTransport(options.mail);
  const app = express();
  app.use(express.json());

  app.post('/password-reset', async (req, res) => {
    const email = typeof req.body?.email === 'string' ? req.body.email.trim() : '';
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
      res.status(400).json({ error: 'email is required' });
      return;
    }
    const token = randomBytes(32).toString('base64url');
    const tokenHash = createHash('sha256').update(token).digest('hex');
    try {
      // The same answer whether the address has an account or not, so the form reveals nothing.
      if (await options.saveResetToken(email, tokenHash, new Date(Date.now() + 30 * 60_000))) {
        const link = new URL(`/reset-password?token=${token}`, options.appUrl).href;
        await mailer.sendMail({
          from: options.from,
          to: email,
          subject: 'Reset your password',
          text: `Someone asked to reset the password of your account.\n\nTo choose a new one, open this link within 30 minutes:\n${link}\n\nIf it was not you, ignore this message.`,
        });
      }
      res.status(202).json({ ok: true });
    } catch (err) {
      // Gmail busy or unreachable for now: ask the browser to try again later.
      if (isGmailTransportError(err) && err.retryable) {
        res
          .status(503)
          .set('Retry-After', String(Math.ceil((err.retryAfterMs ?? 60_000) / 1000)))
          .json({ error: 'try again in a minute' });
        return;
      }
      throw err; // Express 5 hands it to the error handler: a 500, and your logs get err.code and err.hint
    }
  });

  return { app, close: () => mailer.close() };
}

export async function main(): Promise<void> {
  const target = await openExampleTarget();
  const { app, close } = createPasswordResetApp({
    mail: { strategy: 'oauth2', ...target.oauth2(), ...target.overrides.gmailSmtp },
    from: target.oauth2().user,
    appUrl: 'http://localhost:3000',
    saveResetToken: async () => true, // your database: store the hash with the user, return false if no such user
  });
  const server = target.local ? app.listen(0, '127.0.0.1') : app.listen(Number(process.env.PORT ?? 3000));
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://${target.local ? '127.0.0.1' : 'localhost'}:${(server.address() as AddressInfo).port}/password-reset`;
  if (!target.local) {
    console.log(`Listening: curl -X POST ${url} -H 'content-type: application/json' -d '{"email":"you@example.com"}'`);
    return;
  }
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: target.to() }) });
  console.log(`POST /password-reset -> ${response.status} ${await response.text()}`);
  server.close();
  close();
  await target.close();
}

if (isMain(import.meta.url)) await main();
