import { appPassword } from './app-password.js';
import { ipRelay } from './ip-relay.js';
import { relay } from './relay.js';
import { oauth2 } from './oauth2.js';
import { serviceAccount } from './service-account.js';
import { failover } from './failover.js';
import { gmailApi } from './gmail-api.js';

/** The registry: one line per strategy. Config types and names derive from it. */
export const strategies = {
  'app-password': appPassword,
  'ip-relay': ipRelay,
  relay,
  oauth2,
  'service-account': serviceAccount,
  'gmail-api': gmailApi,
  failover,
} as const;

/** Every strategy name. */
export type StrategyName = keyof typeof strategies;

type InputOf<S> = S extends { readonly __input?: infer I } ? NonNullable<I> : never;

/** The config `createGmailTransport` takes: a union discriminated on `strategy`. */
export type GmailTransportConfig = { [K in StrategyName]: InputOf<(typeof strategies)[K]> }[StrategyName];
