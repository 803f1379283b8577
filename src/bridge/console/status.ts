import { hintFor, type Locale } from '../../errors/hints.js';
import type { BudgetStatus } from '../../core/budget.js';
import type { BridgeAddress } from '../types.js';
import type { ConsoleHost } from './context.js';

/** Strategies whose upstream logs in with an OAuth access token. */
const TOKEN_STRATEGIES = new Set(['oauth2', 'service-account', 'gmail-api']);

/** What the status page and `GET /api/status` show. Never a secret. */
export interface ConsoleStatus {
  runningSince: string;
  upstream: { strategy: string; user?: string };
  listening: BridgeAddress[];
  lastDelivery?: { time: string; account?: string; client: string; recipients: number };
  lastFailure?: { time: string; code: string; reply: string; account?: string; client: string; hint?: string };
  /** `null` for an upstream that does not use OAuth tokens. */
  token: { validUntil?: string; lastRefresh?: string; invalidGrant: boolean; hint?: string } | null;
  lockouts: Array<{ address: string; until: string; failures: number }>;
  budget: BudgetStatus[];
}

/** The bridge's state now, with hints in `locale`. */
export async function statusOf(host: ConsoleHost, locale: Locale): Promise<ConsoleStatus> {
  const { activity, config } = host;
  const iso = (ms: number) => new Date(ms).toISOString();
  const upstream = config.upstream as { user?: unknown; strategy: string };
  const failure = activity.lastFailure;
  const invalidGrant = failure?.code === 'OAUTH_INVALID_GRANT';
  const usesTokens = TOKEN_STRATEGIES.has(config.upstreamStrategy);
  let budget: BudgetStatus[] = [];
  try {
    budget = await host.upstream().budgetStatus();
  } catch {
    // A shared budget store that does not answer: the page shows the rest.
  }
  return {
    runningSince: iso(activity.startedAt),
    upstream: { strategy: config.upstreamStrategy, ...(typeof upstream.user === 'string' ? { user: upstream.user } : {}) },
    listening: [...host.addresses()],
    ...(activity.lastDelivery ? { lastDelivery: { ...activity.lastDelivery, time: iso(activity.lastDelivery.time) } } : {}),
    ...(failure ? { lastFailure: { ...failure, time: iso(failure.time), ...(failure.code !== 'LOCAL' ? { hint: hintFor(failure.code, locale) } : {}) } } : {}),
    token: usesTokens
      ? {
          ...(activity.token ? { validUntil: iso(activity.token.expiresAt) } : {}),
          ...(activity.token?.refreshedAt !== undefined ? { lastRefresh: iso(activity.token.refreshedAt) } : {}),
          invalidGrant,
          ...(invalidGrant ? { hint: hintFor('OAUTH_INVALID_GRANT', locale) } : {}),
        }
      : null,
    lockouts: host.smtpLockout.lockedOut().map((l) => ({ address: l.address, until: iso(l.until), failures: l.failures })),
    budget,
  };
}
