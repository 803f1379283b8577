import { hostname as osHostname, tmpdir } from 'node:os';
import { resolve as resolvePath } from 'node:path';
import { isIP } from 'node:net';
import { resolveConfig } from '../config/resolve-config.js';
import { isGmailTransportError } from '../errors/error.js';
import { hintFor } from '../errors/hints.js';
import type { GmailTransportConfig } from '../strategies/index.js';
import type { Logger } from '../core/logger.js';
import { ConfigChecker, isPlainObject, describeType, type Raw } from '../core/validate.js';
import { parseBridgeTls, type ResolvedBridgeTls } from './config-tls.js';
import { NetworkAllowList, networkProblems, parseNetwork, publicNetworkIndices, type ParsedNetwork } from './networks.js';
import { meetsRecommendation, parsePasswordHash, type ParsedPasswordHash } from './password-hash.js';
import type { BridgeOptions } from './types.js';
import { parseSendLog } from '../send-log/options.js';
import { type ResolvedSendLog } from '../core/send-log.js';
import { parseAdmin, withKeptToken, type ResolvedAdmin } from './console/config.js';

/** Library defaults of the bridge; the README's option table documents the same values. */
export const BRIDGE_DEFAULTS = Object.freeze({
  host: '127.0.0.1',
  port: 2525,
  // smtp.gmail.com's advertised SIZE: 25 MB of attachments after base64 and line breaks.
  maxMessageBytes: 35_882_577,
  maxConnections: 20,
  // Google: 100 recipients per message for SMTP clients (support.google.com/a/answer/166852).
  maxRecipients: 100,
  authFailuresBeforeLockout: 5,
  lockoutMinutes: 15,
  // Long enough for an old printer's TLS handshake and login, short enough that a stranger
  // cannot hold a slot.
  loginTimeoutSeconds: 30,
  // A printer needs about six before its login (EHLO, STARTTLS, EHLO, AUTH and its two lines).
  maxCommandsBeforeLogin: 20,
});

/**
 * The upstream retries a failure that cannot have delivered the message once, quickly (a pooled
 * connection Google closed while idle), and otherwise hands the failure back at once: the device
 * waits on the line meanwhile, and the device itself is the retry queue after a 451.
 */
export const BRIDGE_UPSTREAM_RETRY = Object.freeze({ attempts: 2, minDelayMs: 250, maxDelayMs: 1_000, maxElapsedMs: 15_000 });

export interface ResolvedAccount {
  user: string;
  hash: ParsedPasswordHash;
  /** Lower-cased addresses and `@domain`s; undefined = any sender. */
  allowFrom?: readonly string[];
}

export interface ResolvedBridgeConfig {
  listen: { host: string; port: number; tlsPort?: number };
  tls?: ResolvedBridgeTls;
  accounts: ReadonlyMap<string, ResolvedAccount>;
  networks: NetworkAllowList;
  networkList: readonly string[];
  /** `allowNetworks` entries that admit public addresses (warned about at start). */
  publicNetworks: readonly string[];
  upstream: GmailTransportConfig;
  upstreamStrategy: string;
  limits: {
    maxMessageBytes: number;
    maxConnections: number;
    maxRecipients: number;
    authFailuresBeforeLockout: number;
    lockoutMinutes: number;
    maxConnectionsPerAddress: number;
    loginTimeoutSeconds: number;
    maxCommandsBeforeLogin: number;
  };
  allowInsecureAuth: boolean;
  hostname: string;
  logger?: Logger;
  baseDir: string;
  /** Where each message in flight gets a private directory of its own. */
  spoolDir: string;
  /** Accounts whose hash is weaker than OWASP's recommendation (warned about at start). */
  weakHashes: readonly string[];
  /** The admin console, when configured. */
  admin?: ResolvedAdmin;
  /** The send log's folder, when it is written to files (the console reads it). */
  sendLogDir?: string;
}

const ROOT_KEYS = [
  'listen',
  'tls',
  'accounts',
  'allowNetworks',
  'upstream',
  'limits',
  'allowInsecureAuth',
  'hostname',
  'logger',
  'baseDir',
  'spoolDir',
  'sendLog',
  'admin',
];

/**
 * Validates bridge options. Every problem is collected and reported in one CONFIG_INVALID, by
 * field path, never by value; `upstream` is validated by the transport's own resolver.
 *
 * @throws GmailTransportError `CONFIG_INVALID`
 */
export function resolveBridgeConfig(input: BridgeOptions | unknown): ResolvedBridgeConfig {
  const check = new ConfigChecker();
  if (!isPlainObject(input)) {
    check.fail('config', `must be an object, got ${describeType(input)}`);
    check.throwIfAny();
  }
  const raw = input as Raw;
  check.unknownKeys(raw, ROOT_KEYS);
  const baseDir = check.string(raw, 'baseDir', { nonEmpty: true }) ?? process.cwd();
  const hostname = check.string(raw, 'hostname', { nonEmpty: true }) ?? osHostname();
  const spoolDir = resolvePath(baseDir, check.string(raw, 'spoolDir', { nonEmpty: true }) ?? tmpdir());
  const listen = parseListen(check, raw);
  const tls = parseBridgeTls(check, raw, baseDir);
  const accounts = parseAccounts(check, raw);
  const networks = parseNetworks(check, raw);
  const limits = parseLimits(check, raw);
  const allowInsecureAuth = check.boolean(raw, 'allowInsecureAuth') ?? false;
  const admin = parseAdmin(check, raw, raw.tls !== undefined, baseDir);
  const upstream = parseUpstream(check, withKeptToken(check, raw, admin));
  const sendLog = parseSendLog(check, raw, baseDir);
  if (raw.sendLog !== undefined && isPlainObject(raw.upstream) && raw.upstream.sendLog !== undefined)
    check.fail('upstream.sendLog', 'is set on the bridge already (sendLog): give it once, on the bridge');
  const logger = raw.logger;
  if (logger !== undefined && (typeof logger !== 'object' || logger === null)) check.fail('logger', 'must be an object with debug/info/warn/error methods');

  if (accounts && networks && accounts.size === 0 && networks.list.length === 0) {
    check.fail(
      'accounts',
      'or allowNetworks must admit someone: add an account for your devices, or the network they send from',
      'Add "allowNetworks": ["192.168.10.0/24"] with your devices\' network, or an account made with `gmail-transport hash-password` for devices that log in.',
    );
  }
  if (accounts && accounts.size > 0 && raw.tls === undefined && !allowInsecureAuth) {
    check.fail(
      'tls',
      'is required when accounts are configured: logins are offered only over TLS (give key and cert or selfSigned: true; allowInsecureAuth: true is the last resort for devices without TLS)',
      'Add "tls": { "selfSigned": true } to start with; most printers accept a self-signed certificate.',
    );
  }
  if (listen?.tlsPort !== undefined && raw.tls === undefined) check.fail('listen.tlsPort', 'needs tls (a certificate) to listen with implicit TLS');
  check.throwIfAny(undefined, 'en', 'CONFIG_INVALID:bridge');

  const weakHashes = [...accounts!.values()].filter((a) => !meetsRecommendation(a.hash)).map((a) => a.user);
  return Object.freeze({
    listen: listen!,
    ...(tls ? { tls } : {}),
    accounts: accounts!,
    networks: new NetworkAllowList(networks!.parsed),
    networkList: networks!.list,
    publicNetworks: publicNetworkIndices(networks!.parsed).map((i) => networks!.list[i]!),
    upstream: sendLog ? withSendLog(upstream!.config, sendLog) : upstream!.config,
    upstreamStrategy: upstream!.strategy,
    limits: limits!,
    allowInsecureAuth,
    hostname,
    ...(logger ? { logger: logger as Logger } : {}),
    baseDir,
    spoolDir,
    weakHashes,
    ...(admin ? { admin } : {}),
    ...(sendLog?.kind === 'file' ? { sendLogDir: sendLog.dir } : {}),
  });
}

function parseListen(check: ConfigChecker, raw: Raw): ResolvedBridgeConfig['listen'] | undefined {
  const listen = check.object(raw, 'listen') ?? {};
  const at = check.at('listen');
  at.unknownKeys(listen, ['host', 'port', 'tlsPort']);
  const host = at.string(listen, 'host', { nonEmpty: true }) ?? BRIDGE_DEFAULTS.host;
  if (isIP(host) === 0 && !/^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$/.test(host)) at.fail('host', 'must be an IP address or a host name');
  const port = at.integer(listen, 'port', { min: 0, max: 65535 }) ?? BRIDGE_DEFAULTS.port;
  const tlsPort = at.integer(listen, 'tlsPort', { min: 0, max: 65535 });
  if (tlsPort !== undefined && tlsPort !== 0 && tlsPort === port) at.fail('tlsPort', 'must differ from listen.port');
  return { host, port, ...(tlsPort !== undefined ? { tlsPort } : {}) };
}

function parseAccounts(check: ConfigChecker, raw: Raw): Map<string, ResolvedAccount> | undefined {
  const accounts = new Map<string, ResolvedAccount>();
  const seen = new Set<string>();
  const value = raw.accounts;
  if (value === undefined) return accounts;
  if (!Array.isArray(value)) {
    check.fail('accounts', `must be a list, got ${describeType(value)}`);
    return undefined;
  }
  value.forEach((item: unknown, index) => {
    const at = check.at(`accounts[${index}]`);
    if (!isPlainObject(item)) {
      check.fail(`accounts[${index}]`, `must be an object, got ${describeType(item)}`);
      return;
    }
    at.unknownKeys(item, ['user', 'passwordHash', 'allowFrom']);
    const user = at.string(item, 'user', { required: true });
    // smtp-server refuses control characters in user names; so do we, earlier.
    if (user !== undefined && /[\x00-\x1f\x7f\s]/.test(user)) at.fail('user', 'must not contain spaces or control characters');
    else if (user !== undefined && seen.has(user)) at.fail('user', 'is listed twice');
    const duplicate = user !== undefined && seen.has(user);
    if (user !== undefined) seen.add(user);
    const hashText = at.string(item, 'passwordHash', { required: true });
    const hash = hashText !== undefined ? parsePasswordHash(hashText) : undefined;
    if (hashText !== undefined && !hash) {
      at.fail(
        'passwordHash',
        'is not a password hash from `gmail-transport hash-password` ($scrypt$ln=…,r=…,p=…$salt$hash)',
        'Hash device passwords with `gmail-transport hash-password` and put the printed line in passwordHash; never the password itself.',
      );
    }
    const allowFrom = parseAllowFrom(at, item);
    if (user && hash && !duplicate && allowFrom !== null) accounts.set(user, { user, hash, ...(allowFrom ? { allowFrom } : {}) });
  });
  return accounts;
}

function parseAllowFrom(check: ConfigChecker, item: Raw): readonly string[] | undefined | null {
  const value = item.allowFrom;
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0) {
    check.fail('allowFrom', 'must be a non-empty list of addresses (scans@example.com) or domains (@example.com)');
    return null;
  }
  const out: string[] = [];
  value.forEach((entry: unknown, i) => {
    if (typeof entry !== 'string' || !/^([^\s@<>]+)?@[^\s@<>]+\.[^\s@<>]+$/.test(entry.trim())) {
      check.fail(`allowFrom[${i}]`, 'must be an address (scans@example.com) or a domain (@example.com)');
    } else out.push(entry.trim().toLowerCase());
  });
  return out.length === value.length ? Object.freeze(out) : null;
}

function parseNetworks(check: ConfigChecker, raw: Raw): { parsed: ParsedNetwork[]; list: string[] } | undefined {
  const value = raw.allowNetworks;
  if (value === undefined) return { parsed: [], list: [] };
  if (!Array.isArray(value)) {
    check.fail('allowNetworks', `must be a list of networks such as "192.168.10.0/24", got ${describeType(value)}`);
    return undefined;
  }
  const parsed: ParsedNetwork[] = [];
  value.forEach((entry: unknown, i) => {
    if (typeof entry !== 'string') {
      check.fail(`allowNetworks[${i}]`, `must be a string, got ${describeType(entry)}`);
      return;
    }
    const result = parseNetwork(entry);
    if ('error' in result)
      check.fail(
        `allowNetworks[${i}]`,
        result.error,
        'Write an address or a network in CIDR form, e.g. "192.168.10.0/24" for the office network or "192.168.10.25" for one printer.',
      );
    else parsed.push(result);
  });
  if (parsed.length !== value.length) return undefined;
  const problems = networkProblems(parsed);
  for (const { indices, admits } of problems) {
    for (const i of indices) {
      const others = indices.filter((j) => j !== i).map((j) => `allowNetworks[${j}]`);
      check.fail(
        `allowNetworks[${i}]`,
        `${others.length > 0 ? `together with ${others.join(', ')} admits` : 'admits'} ${admits}: devices there send without a login, so the bridge would relay mail for anyone who reaches it; list your devices' own networks, e.g. 192.168.10.0/24`,
      );
    }
  }
  return problems.length === 0 ? { parsed, list: value as string[] } : undefined;
}

function parseLimits(check: ConfigChecker, raw: Raw): ResolvedBridgeConfig['limits'] | undefined {
  const limits = check.object(raw, 'limits') ?? {};
  const at = check.at('limits');
  at.unknownKeys(limits, [...Object.keys(BRIDGE_DEFAULTS).filter((k) => k !== 'host' && k !== 'port'), 'maxConnectionsPerAddress']);
  const maxConnections = at.integer(limits, 'maxConnections', { min: 1, max: 10_000 }) ?? BRIDGE_DEFAULTS.maxConnections;
  const perAddress = at.integer(limits, 'maxConnectionsPerAddress', { min: 1, max: 10_000 });
  if (perAddress !== undefined && perAddress > maxConnections) at.fail('maxConnectionsPerAddress', 'must not be more than limits.maxConnections');
  return {
    maxMessageBytes: at.integer(limits, 'maxMessageBytes', { min: 1024, max: 1024 ** 3 }) ?? BRIDGE_DEFAULTS.maxMessageBytes,
    maxConnections,
    maxRecipients: at.integer(limits, 'maxRecipients', { min: 1, max: 10_000 }) ?? BRIDGE_DEFAULTS.maxRecipients,
    authFailuresBeforeLockout: at.integer(limits, 'authFailuresBeforeLockout', { min: 1, max: 1000 }) ?? BRIDGE_DEFAULTS.authFailuresBeforeLockout,
    lockoutMinutes: at.integer(limits, 'lockoutMinutes', { min: 1, max: 7 * 24 * 60 }) ?? BRIDGE_DEFAULTS.lockoutMinutes,
    // Half the slots: one address (a scanner gone wrong, a stranger) leaves the rest to the others.
    maxConnectionsPerAddress: perAddress ?? Math.max(1, Math.floor(maxConnections / 2)),
    loginTimeoutSeconds: at.integer(limits, 'loginTimeoutSeconds', { min: 1, max: 3600 }) ?? BRIDGE_DEFAULTS.loginTimeoutSeconds,
    maxCommandsBeforeLogin: at.integer(limits, 'maxCommandsBeforeLogin', { min: 5, max: 10_000 }) ?? BRIDGE_DEFAULTS.maxCommandsBeforeLogin,
  };
}

function parseUpstream(check: ConfigChecker, raw: Raw): { config: GmailTransportConfig; strategy: string } | undefined {
  const upstream = check.object(raw, 'upstream', { required: true });
  if (!upstream) return undefined;
  const config = (upstream.retry === undefined ? { ...upstream, retry: { ...BRIDGE_UPSTREAM_RETRY } } : upstream) as unknown as GmailTransportConfig;
  try {
    const resolved = resolveConfig(config);
    return { config, strategy: resolved.strategy };
  } catch (err) {
    if (!isGmailTransportError(err) || err.code !== 'CONFIG_INVALID') throw err;
    check.include('upstream', err.issues ?? []);
    // The upstream's own hints (an app password's shape, …) help; its generic one would not.
    if (err.hint && err.hint !== hintFor('CONFIG_INVALID', 'en')) check.hints.push(err.hint);
    return undefined;
  }
}

/** The bridge's send log goes to its upstream transport, which writes a record per message. */
function withSendLog(upstream: GmailTransportConfig, sendLog: ResolvedSendLog): GmailTransportConfig {
  const { subjects, recipients } = sendLog;
  const option = sendLog.kind === 'file' ? { dir: sendLog.dir, retentionDays: sendLog.retentionDays, subjects, recipients } : sendLog.sink;
  return { ...upstream, sendLog: option } as GmailTransportConfig;
}
