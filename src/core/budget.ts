import type { TokenStore } from './tokens.js';

/**
 * The `budget` option: how much a transport may send as one mailbox over a rolling 24 hours,
 * counted before Google counts, so that the account is never suspended for passing a limit.
 * Every field falls back to the default for the route (see the README, "Sending budget").
 */
export interface BudgetOptions {
  /**
   * Messages per rolling 24 hours. `Infinity` for no limit.
   * @default 500 for `@gmail.com`/`@googlemail.com` users, 2000 for other Google mailboxes; none for `ip-relay` and `relay`
   */
  messagesPerDay?: number;
  /**
   * Recipients (envelope To, Cc and Bcc, each time a message is sent) per rolling 24 hours. `Infinity` for no limit.
   * @default 10000 for Google mailboxes and `ip-relay`; none for `relay`
   */
  recipientsPerDay?: number;
  /**
   * Recipients of one message; a message with more is refused before any network. `Infinity` for no limit.
   * @default 100 for Google mailboxes and `ip-relay`; none for `relay`
   */
  recipientsPerMessage?: number;
  /**
   * Where the count is kept: a Keyv instance (or any `{ get, set, delete }`) shared by every
   * process that sends as the same mailbox. With Keyv + @keyv/redis each reservation is one
   * atomic Redis script; other stores are read and written without a lock.
   * @default a memory store of this process, shared by its transports of the same mailbox
   */
  store?: TokenStore;
}

/** A budget's limits after defaults; `undefined` means no limit. */
export interface BudgetLimits {
  readonly messagesPerDay?: number;
  readonly recipientsPerDay?: number;
  readonly recipientsPerMessage?: number;
}

/** What a route's budget counts against, as its strategy declares it. */
export type BudgetSubject =
  /** smtp.gmail.com or the Gmail API, signed in as one Google account. */
  | { readonly kind: 'mailbox'; readonly user: string }
  /** Google's SMTP relay: its per-user limit counts per envelope sender. */
  | { readonly kind: 'relay-sender' }
  /** Any other relay: counted per host and login, with no default limit. */
  | { readonly kind: 'relay'; readonly account: string };

/** Used and left of one budget over the last 24 hours. `limit` and `left` are absent where there is no limit. */
export interface BudgetCount {
  used: number;
  limit?: number;
  left?: number;
}

/** One budget's state, as `transport.budgetStatus()` and the bridge's `status()` report it. */
export interface BudgetStatus {
  /** The mailbox counted (for `ip-relay`: the envelope sender). */
  mailbox: string;
  strategy: string;
  /** The failover route's index, for a failover transport. */
  route?: number;
  messages: BudgetCount;
  recipients: BudgetCount;
  /** Recipients one message may have, where limited. */
  recipientsPerMessage?: number;
  /** Google refused this mailbox's mail with its daily limit: nothing is sent before this time (epoch ms). */
  spentUntil?: number;
  /** Where the count lives. */
  store: 'memory' | 'keyv' | 'redis';
}
