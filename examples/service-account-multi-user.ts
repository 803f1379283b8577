/**
 * Google Workspace: one service account (domain-wide delegation) sending as several mailboxes of
 * the domain. One transport per mailbox, all built from the same key and the same token store:
 * each mailbox gets its own access token (its own JWT `sub`), kept side by side in that store.
 *
 *   GMAIL_SERVICE_ACCOUNT_FILE=sa.json EXAMPLE_USERS=sales@example.com,support@example.com EXAMPLE_TO=you@example.org npx tsx examples/service-account-multi-user.ts
 *   npm run example -- service-account-multi-user   # against local stand-ins
 */
import Keyv from 'keyv';
import { createGmailTransport, type GmailTransporter, type ServiceAccountConfig } from '../src/index.js'; // 'gmail-transport' in your app
import { isMain, openExampleTarget } from './lib/target.js';

/** What every mailbox shares: the key (and, here, the endpoint overrides of a local run). */
export type SharedServiceAccount = Omit<ServiceAccountConfig, 'strategy' | 'user' | 'tokenStore'>;

export interface Mailboxes {
  /** A transport per mailbox. */
  get(user: string): GmailTransporter;
  /** The token store all of them use (in memory here; pass a Redis-backed Keyv to share it across processes). */
  tokenStore: Keyv;
  close(): void;
}

export function createMailboxes(shared: SharedServiceAccount, users: string[], tokenStore = new Keyv()): Mailboxes {
  const mailers = new Map(users.map((user) => [user.toLowerCase(), createGmailTransport({ strategy: 'service-account', ...shared, user, tokenStore })]));
  return {
    get(user) {
      const mailer = mailers.get(user.toLowerCase());
      if (!mailer) throw new Error(`${user} is not one of the configured mailboxes`);
      return mailer;
    },
    tokenStore,
    close: () => mailers.forEach((mailer) => mailer.close()),
  };
}

export async function main(): Promise<void> {
  const target = await openExampleTarget();
  const users = target.serviceAccountUsers();
  // A Map we can look into, to show the store's keys: one token per mailbox.
  const cache = new Map<string, unknown>();
  const mailboxes = createMailboxes({ ...target.serviceAccount(), ...target.overrides.gmailSmtp }, users, new Keyv({ store: cache }));
  try {
    for (const user of users) {
      const mailer = mailboxes.get(user);
      mailer.once('token', ({ source }) => console.log(`${user}: access token from ${source === 'endpoint' ? "Google's token endpoint" : 'the shared store'}`));
      const info = await mailer.sendMail({ from: user, to: target.to(), subject: `Hello from ${user}`, text: `Sent as ${user} by the service account.` });
      console.log(`${user}: sent ${info.messageId}`);
    }
    console.log(`The shared token store holds ${cache.size} tokens:\n  ${[...cache.keys()].join('\n  ')}`);
  } finally {
    mailboxes.close();
    await target.close();
  }
}

if (isMain(import.meta.url)) await main();
