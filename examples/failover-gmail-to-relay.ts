/**
 * Failover: send as the Google account through OAuth2, and through an external relay (SendGrid
 * here) when Gmail cannot take the message: its daily sending limit is spent (550 5.4.5), it is
 * unreachable, or it throttles us. A message Gmail refused for being wrong (a bad recipient) is not
 * sent elsewhere.
 *
 *   GMAIL_USER=… GMAIL_CLIENT_ID=… GMAIL_CLIENT_SECRET=… GMAIL_REFRESH_TOKEN=… SENDGRID_API_KEY=… EXAMPLE_TO=… npx tsx examples/failover-gmail-to-relay.ts
 *   npm run example -- failover-gmail-to-relay   # against local stand-ins, with Gmail's quota spent
 */
import { createGmailTransport, type GmailTransporter, type OAuth2Config, type RelayConfig } from '../src/index.js'; // 'gmail-transport' in your app
import { isMain, openExampleTarget } from './lib/target.js';

export interface FailoverRoutes {
  gmail: Omit<OAuth2Config, 'strategy'>;
  relay: Omit<RelayConfig, 'strategy'>;
}

/** `log` gets one line per route change; pass your logger's `warn`/`info`. */
export function createFailoverMailer(routes: FailoverRoutes, log: (line: string) => void = console.log): GmailTransporter {
  const mailer = createGmailTransport({
    strategy: 'failover',
    transports: [
      { strategy: 'oauth2', ...routes.gmail },
      { strategy: 'relay', ...routes.relay },
    ],
    // After a QUOTA_EXCEEDED, Gmail is skipped for an hour instead of being asked again per message.
    cooldownMs: 60 * 60_000,
  });
  mailer.on('failover', ({ fromStrategy, toStrategy, code, messageId }) =>
    log(`${messageId ?? 'message'}: ${fromStrategy} failed with ${code}, trying ${toStrategy}`),
  );
  // Route 1 without a failover event: Gmail was skipped, still cooling down after its quota error.
  mailer.on('delivered', ({ route, strategy, messageId }) => log(`${messageId ?? 'message'}: delivered by ${strategy} (route ${route})`));
  return mailer;
}

export async function main(): Promise<void> {
  const target = await openExampleTarget();
  const gmail = target.oauth2();
  const mailer = createFailoverMailer({
    gmail: { ...gmail, ...target.overrides.gmailSmtp },
    relay: { preset: 'sendgrid', auth: target.relayAuth(), ...target.overrides.relay },
  });
  // A local run plays a day on which the account's sending limit is used up.
  target.stack?.setGmailQuotaExceeded(true);
  try {
    for (const n of [1, 2]) {
      await mailer.sendMail({ from: gmail.user, to: target.to(), subject: `Daily report ${n}`, text: 'Sent by whichever route could take it.' });
    }
  } finally {
    mailer.close();
    await target.close();
  }
}

if (isMain(import.meta.url)) await main();
