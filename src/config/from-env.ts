import { readFileSync } from 'node:fs';
import type { ConfigIssue } from '../errors/error.js';
import { strategies, type GmailTransportConfig } from '../strategies/index.js';
import { configError, isPlainObject } from '../core/validate.js';
import { errnoOf } from './errno.js';

type EnvKind = 'string' | 'integer' | 'boolean' | 'json' | 'ca-file';

/** One environment variable fromEnv reads: its name without the prefix and the field it sets. */
interface EnvVariable {
  name: string;
  path: string;
  kind?: EnvKind;
}

/** The mapping, documented in the fromEnv table of docs/cli.md: keep the two in step. */
export const ENV_VARIABLES: readonly EnvVariable[] = [
  { name: 'STRATEGY', path: 'strategy' },
  { name: 'USER', path: 'user' },
  { name: 'APP_PASSWORD', path: 'appPassword' },
  { name: 'PASSWORD', path: 'auth.pass' },
  { name: 'CLIENT_ID', path: 'clientId' },
  { name: 'CLIENT_SECRET', path: 'clientSecret' },
  { name: 'REFRESH_TOKEN', path: 'refreshToken' },
  { name: 'SERVICE_ACCOUNT_FILE', path: 'keyFile' },
  { name: 'SERVICE_ACCOUNT_JSON', path: 'serviceAccount', kind: 'json' },
  { name: 'TOKEN_ENDPOINT', path: 'endpoints.token' },
  { name: 'DOMAIN', path: 'domain' },
  { name: 'RELAY_PRESET', path: 'preset' },
  { name: 'RELAY_REGION', path: 'region' },
  { name: 'SMTP_HOST', path: 'smtp.host' },
  { name: 'SMTP_PORT', path: 'smtp.port', kind: 'integer' },
  { name: 'SMTP_SECURE', path: 'smtp.secure', kind: 'boolean' },
  { name: 'SMTP_NAME', path: 'smtp.name' },
  { name: 'SMTP_CA_FILE', path: 'smtp.tls.ca', kind: 'ca-file' },
  { name: 'LOCALE', path: 'locale' },
  { name: 'POOL', path: 'pool', kind: 'boolean' },
];

/** Strategies whose login lives under `auth` rather than at the top level. */
const NESTED_AUTH: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'ip-relay': { USER: 'auth.user', APP_PASSWORD: 'auth.appPassword' },
  relay: { USER: 'auth.user', PASSWORD: 'auth.pass' },
};

/** When STRATEGY is unset: the credential variable that names the strategy. */
const STRATEGY_BY_CREDENTIAL: readonly (readonly [string[], string])[] = [
  [['REFRESH_TOKEN'], 'oauth2'],
  [['SERVICE_ACCOUNT_FILE', 'SERVICE_ACCOUNT_JSON'], 'service-account'],
  [['APP_PASSWORD'], 'app-password'],
];

const COMMON_FIELDS = new Set(['strategy', 'locale', 'pool']);
const ENV_HINT = 'Set the variables listed; the fromEnv table of the command-line guide (docs/cli.md) says what each one holds.';

/**
 * Builds a config from environment variables, explicitly: the library never reads the
 * environment by itself. The variables (with the default prefix) are `GMAIL_STRATEGY`,
 * `GMAIL_USER`, `GMAIL_APP_PASSWORD`, `GMAIL_PASSWORD`, `GMAIL_CLIENT_ID`, `GMAIL_CLIENT_SECRET`,
 * `GMAIL_REFRESH_TOKEN`, `GMAIL_SERVICE_ACCOUNT_FILE` (→ `keyFile`), `GMAIL_SERVICE_ACCOUNT_JSON`,
 * `GMAIL_TOKEN_ENDPOINT`, `GMAIL_DOMAIN`, `GMAIL_RELAY_PRESET`, `GMAIL_RELAY_REGION`,
 * `GMAIL_SMTP_HOST`, `GMAIL_SMTP_PORT`, `GMAIL_SMTP_SECURE`, `GMAIL_SMTP_NAME`,
 * `GMAIL_SMTP_CA_FILE`, `GMAIL_LOCALE` and `GMAIL_POOL` (docs/cli.md has the table). Variables the
 * chosen strategy does not use are ignored; empty ones count as unset. Without `GMAIL_STRATEGY`
 * the strategy follows from the one credential present (refresh token → `oauth2`, service
 * account → `service-account`, app password → `app-password`).
 *
 * @param env - The variables. @default process.env
 * @param prefix - @default 'GMAIL_'
 * @throws GmailTransportError `CONFIG_INVALID` naming each variable that cannot be used (a port
 *   that is not a number, unparsable JSON, an unreadable CA file, no strategy), never its value.
 * @example
 * ```ts
 * const mailer = createGmailTransport(fromEnv());
 * ```
 */
export function fromEnv(env: Readonly<Record<string, string | undefined>> = process.env, prefix = 'GMAIL_'): GmailTransportConfig {
  const read = (name: string): string | undefined => {
    const value = env[prefix + name];
    return value === undefined || value.trim() === '' ? undefined : value;
  };
  const issues: ConfigIssue[] = [];
  const strategy = read('STRATEGY')?.trim() ?? inferStrategy(read);
  if (strategy === undefined) {
    const credentials = STRATEGY_BY_CREDENTIAL.flatMap(([names]) => names.map((n) => prefix + n)).join(', ');
    issues.push({
      path: `${prefix}STRATEGY`,
      message: `is not set, and the strategy cannot be told from the credentials (none or several of ${credentials} are set)`,
    });
    throw configError(issues, [ENV_HINT]);
  }
  const registered = (strategies as Record<string, { keys: readonly string[] }>)[strategy];
  const accepts = (path: string): boolean => !registered || COMMON_FIELDS.has(topKey(path)) || registered.keys.includes(topKey(path));
  const config: Record<string, unknown> = { strategy };
  for (const variable of ENV_VARIABLES) {
    if (variable.name === 'STRATEGY') continue;
    const text = read(variable.name);
    if (text === undefined) continue;
    const path = fieldPathFor(variable, strategy);
    if (path === undefined || !accepts(path)) continue;
    const value = convert(text, variable.kind ?? 'string', `${prefix}${variable.name}`, issues);
    if (value !== undefined) setPath(config, path, value);
  }
  if (issues.length > 0) throw configError(issues, [ENV_HINT], strategy);
  return config as unknown as GmailTransportConfig;
}

/**
 * The environment variable behind a config field path of a config fromEnv built, so that a
 * CONFIG_INVALID about `clientSecret` can also name `GMAIL_CLIENT_SECRET`.
 */
export function envVariableForField(path: string, strategy: string, prefix = 'GMAIL_'): string | undefined {
  const variable = ENV_VARIABLES.find((v) => {
    const field = fieldPathFor(v, strategy);
    return field !== undefined && (path === field || path.startsWith(`${field}.`) || path.startsWith(`${field}[`));
  });
  return variable ? prefix + variable.name : undefined;
}

function fieldPathFor(variable: EnvVariable, strategy: string): string | undefined {
  return NESTED_AUTH[strategy]?.[variable.name] ?? (variable.path.startsWith('auth.') ? undefined : variable.path);
}

function inferStrategy(read: (name: string) => string | undefined): string | undefined {
  const present = STRATEGY_BY_CREDENTIAL.filter(([names]) => names.some((name) => read(name) !== undefined));
  return present.length === 1 ? present[0]![1] : undefined;
}

function convert(text: string, kind: EnvKind, variable: string, issues: ConfigIssue[]): unknown {
  switch (kind) {
    case 'string':
      return text.trim();
    case 'integer':
      if (/^\s*\d+\s*$/.test(text)) return Number(text);
      issues.push({ path: variable, message: 'must be a whole number' });
      return undefined;
    case 'boolean': {
      const normalized = text.trim().toLowerCase();
      if (['true', '1', 'yes'].includes(normalized)) return true;
      if (['false', '0', 'no'].includes(normalized)) return false;
      issues.push({ path: variable, message: 'must be true or false' });
      return undefined;
    }
    case 'json':
      try {
        return JSON.parse(text) as unknown;
      } catch {
        // Never the parser's message: it quotes the text, here a private key.
        issues.push({ path: variable, message: 'is not valid JSON (paste the whole key file, or use the _FILE variable)' });
        return undefined;
      }
    case 'ca-file':
      try {
        return [readFileSync(text.trim(), 'utf8')];
      } catch (err) {
        issues.push({ path: variable, message: `names file ${text.trim()}, which cannot be read (${errnoOf(err)})` });
        return undefined;
      }
  }
}

function topKey(path: string): string {
  return path.split('.')[0]!;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    if (!isPlainObject(node[key])) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys.at(-1)!] = value;
}
