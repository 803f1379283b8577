/**
 * Where an example sends. By default: Google (and your relay), with credentials from the
 * environment, as in production. With GMAIL_TRANSPORT_EXAMPLE_LOCAL=1 (what `npm run example`
 * sets): the local stand-ins of local-stack.ts, and their fake credentials.
 *
 * Examples apply `overrides` to their configs; outside a local run they are empty, so the
 * configs reach Google's real endpoints.
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { RefreshTokenCredentials, ServiceAccountKey } from '../../src/index.js';
import { startLocalStack, type LocalCredentials, type LocalOverrides, type LocalStack } from './local-stack.js';

/** Set to 1 to run the examples against the local stand-ins. */
export const LOCAL_FLAG = 'GMAIL_TRANSPORT_EXAMPLE_LOCAL';
/** A local run's stand-ins, passed on to the processes an example starts (workers). */
const SHARED_TARGET = 'GMAIL_TRANSPORT_EXAMPLE_TARGET';

export interface ExampleTarget {
  /** Whether this is a local run against the stand-ins. */
  readonly local: boolean;
  /** GMAIL_USER, GMAIL_CLIENT_ID, GMAIL_CLIENT_SECRET, GMAIL_REFRESH_TOKEN. */
  oauth2(): RefreshTokenCredentials;
  /** GMAIL_SERVICE_ACCOUNT_FILE (the JSON key's path). */
  serviceAccount(): { keyFile: string } | { serviceAccount: ServiceAccountKey };
  /** EXAMPLE_USERS: mailboxes of your Workspace domain, comma-separated. */
  serviceAccountUsers(): string[];
  /** SENDGRID_API_KEY, as the relay's password. */
  relayAuth(): { user: string; pass: string };
  /** EXAMPLE_TO: who gets the examples' messages. */
  to(): string;
  /** REDIS_URL. @default redis://127.0.0.1:6379 */
  redisUrl(): string;
  /** Config fragments pointing at the stand-ins; empty outside a local run. */
  readonly overrides: { [K in keyof LocalOverrides]: Partial<LocalOverrides[K]> };
  /** The stand-ins, in the process that started them (a local run's main process). */
  readonly stack?: LocalStack;
  /** Prints what the stand-ins received and stops them (a local run); nothing otherwise. */
  close(print?: (line: string) => void): Promise<void>;
}

/** Whether the module at `moduleUrl` (import.meta.url) is the script node was started with. */
export function isMain(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return pathToFileURL(realpathSync(script)).href === moduleUrl;
  } catch {
    return false;
  }
}

/** The target of this run: see the file comment. */
export async function openExampleTarget(env: NodeJS.ProcessEnv = process.env): Promise<ExampleTarget> {
  const shared = env[SHARED_TARGET];
  if (shared) return localTarget(JSON.parse(shared) as Shared);
  if (env[LOCAL_FLAG] === '1') {
    const stack = await startLocalStack();
    const shared: Shared = { credentials: stack.credentials, overrides: stack.overrides };
    // Processes this one starts (cluster workers) use the same stand-ins.
    env[SHARED_TARGET] = JSON.stringify(shared);
    return localTarget(shared, stack, () => delete env[SHARED_TARGET]);
  }
  return productionTarget(env);
}

interface Shared {
  credentials: LocalCredentials;
  overrides: LocalOverrides;
}

/** The target of a local run, built from the stand-ins' credentials. */
export function localTarget(shared: Shared, stack?: LocalStack, onClose?: () => void): ExampleTarget {
  const { credentials } = shared;
  return {
    local: true,
    oauth2: () => credentials.oauth2,
    serviceAccount: () => ({ serviceAccount: credentials.serviceAccount.key }),
    serviceAccountUsers: () => ['sales@example.com', 'support@example.com', 'billing@example.com'],
    relayAuth: () => credentials.relay,
    to: () => 'you@example.org',
    redisUrl: () => process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    overrides: shared.overrides,
    ...(stack ? { stack } : {}),
    async close(print = console.log) {
      onClose?.();
      if (!stack) return;
      const received = stack.received();
      print(`\nThe local stand-ins received ${received.length} message(s):`);
      for (const seen of received) print(`  "${seen.subject}" ${seen.envelope.from} -> ${seen.envelope.to.join(', ')} (${seen.auth})`);
      await stack.close();
    },
  };
}

function productionTarget(env: NodeJS.ProcessEnv): ExampleTarget {
  const need = (name: string): string => {
    const value = env[name]?.trim();
    if (!value) throw new Error(`${name} is not set (or run the example against local stand-ins: npm run example -- <name>)`);
    return value;
  };
  return {
    local: false,
    oauth2: () => ({
      user: need('GMAIL_USER'),
      clientId: need('GMAIL_CLIENT_ID'),
      clientSecret: need('GMAIL_CLIENT_SECRET'),
      refreshToken: need('GMAIL_REFRESH_TOKEN'),
    }),
    serviceAccount: () => ({ keyFile: need('GMAIL_SERVICE_ACCOUNT_FILE') }),
    serviceAccountUsers: () =>
      need('EXAMPLE_USERS')
        .split(',')
        .map((u) => u.trim())
        .filter(Boolean),
    relayAuth: () => ({ user: 'apikey', pass: need('SENDGRID_API_KEY') }),
    to: () => need('EXAMPLE_TO'),
    redisUrl: () => env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    overrides: { gmailSmtp: {}, gmailApi: {}, relay: {} },
    close: async () => {},
  };
}
