import { isIP } from 'node:net';
import { resolve } from 'node:path';
import type { Secret } from '../../core/secret.js';
import { parseEncryptionKey } from '../../tokens/recognize.js';
import { readKeptToken } from './kept-token.js';
import { isLoopbackHost, isPlainObject, describeType, type ConfigChecker, type Raw } from '../../core/validate.js';
import { NetworkAllowList, parseNetwork, type ParsedNetwork } from '../networks.js';
import { parsePasswordHash, type ParsedPasswordHash } from '../password-hash.js';

/** Defaults of the `admin` option; docs/bridge.md documents the same values. */
export const ADMIN_DEFAULTS = Object.freeze({ host: '127.0.0.1', port: 8025 });

/** The validated `admin` option. */
export interface ResolvedAdmin {
  listen: { host: string; port: number };
  users: ReadonlyMap<string, ParsedPasswordHash>;
  metricsNetworks: NetworkAllowList;
  /** HTTPS with the bridge's certificate: every listen address but a loopback one. */
  secure: boolean;
  /** Where Connect Google keeps the refresh token (an oauth2 upstream only). */
  refreshTokenFile?: string;
  /** The upstream's `tokenEncryptionKey`, which seals that file. */
  sealKey?: Secret;
}

/**
 * Validates `admin`, reporting problems under `admin.*`. A console reachable from the LAN is
 * served only over TLS (its passwords and session cookies would otherwise cross the network
 * readable by anyone on it), so a non-loopback `listen.host` needs the bridge's `tls`.
 */
export function parseAdmin(check: ConfigChecker, raw: Raw, hasTls: boolean, baseDir: string): ResolvedAdmin | undefined {
  if (raw.admin === undefined) return undefined;
  const admin = check.object(raw, 'admin');
  if (!admin) return undefined;
  const at = check.at('admin');
  const before = check.issues.length;
  at.unknownKeys(admin, ['listen', 'users', 'metricsNetworks', 'refreshTokenFile']);
  const listen = at.object(admin, 'listen') ?? {};
  const atListen = at.at('listen');
  atListen.unknownKeys(listen, ['host', 'port']);
  const host = atListen.string(listen, 'host', { nonEmpty: true }) ?? ADMIN_DEFAULTS.host;
  if (isIP(host) === 0 && !/^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$/.test(host)) atListen.fail('host', 'must be an IP address or a host name');
  const port = atListen.integer(listen, 'port', { min: 0, max: 65535 }) ?? ADMIN_DEFAULTS.port;
  const secure = !isLoopbackHost(host);
  if (secure && !hasTls) {
    atListen.fail(
      'host',
      "is not a loopback address, so the console is served over HTTPS with the bridge's certificate: set tls (key and cert, or selfSigned: true), or listen on 127.0.0.1",
      'Add "tls": { "selfSigned": true } to the bridge config, or keep admin.listen.host at 127.0.0.1 and open the console on the bridge machine.',
    );
  }
  const users = parseUsers(at, admin);
  const networks = parseMetricsNetworks(at, admin);
  const file = at.string(admin, 'refreshTokenFile', { nonEmpty: true });
  const upstream = isPlainObject(raw.upstream) ? raw.upstream : {};
  if (file !== undefined && upstream.strategy !== 'oauth2') at.fail('refreshTokenFile', 'is for an oauth2 upstream (Connect Google gets its refresh token)');
  const sealKey = upstream.tokenEncryptionKey !== undefined ? parseEncryptionKey(upstream.tokenEncryptionKey) : undefined;
  if (check.issues.length > before || !users || !networks) return undefined;
  return {
    listen: { host, port },
    users,
    metricsNetworks: new NetworkAllowList(networks),
    secure,
    ...(file !== undefined ? { refreshTokenFile: resolve(baseDir, file) } : {}),
    ...(sealKey ? { sealKey } : {}),
  };
}

/**
 * The upstream config with the refresh token Connect Google kept, when its file exists: it
 * replaces `upstream.refreshToken`, which may then be left out. A file that cannot be used is a
 * problem of `admin.refreshTokenFile`.
 */
export function withKeptToken(check: ConfigChecker, raw: Raw, admin: ResolvedAdmin | undefined): Raw {
  if (!admin?.refreshTokenFile || !isPlainObject(raw.upstream)) return raw;
  const { token, problem } = readKeptToken(admin.refreshTokenFile, admin.sealKey);
  if (problem) check.fail('admin.refreshTokenFile', `${admin.refreshTokenFile} ${problem}`);
  return token ? { ...raw, upstream: { ...raw.upstream, refreshToken: token } } : raw;
}

function parseUsers(check: ConfigChecker, admin: Raw): Map<string, ParsedPasswordHash> | undefined {
  const value = admin.users;
  const hint = 'Add "users": [{ "user": "admin", "passwordHash": "…" }] to admin, with the line `gmail-transport hash-password` prints for the password.';
  // Every request to the console and its API is authenticated: without a user nobody could log in.
  if (!Array.isArray(value) || value.length === 0) {
    check.fail(
      'users',
      value === undefined ? 'is required: at least one admin user' : `must be a non-empty list of { user, passwordHash }, got ${describeType(value)}`,
      hint,
    );
    return undefined;
  }
  const users = new Map<string, ParsedPasswordHash>();
  const seen = new Set<string>();
  value.forEach((item: unknown, index) => {
    if (!isPlainObject(item)) {
      check.fail(`users[${index}]`, `must be an object, got ${describeType(item)}`);
      return;
    }
    const at = check.at(`users[${index}]`);
    at.unknownKeys(item, ['user', 'passwordHash']);
    const user = at.string(item, 'user', { required: true });
    if (user !== undefined && /[\x00-\x1f\x7f\s:]/.test(user)) at.fail('user', 'must not contain spaces, colons or control characters');
    else if (user !== undefined && seen.has(user)) at.fail('user', 'is listed twice');
    const duplicate = user !== undefined && seen.has(user);
    if (user !== undefined) seen.add(user);
    const text = at.string(item, 'passwordHash', { required: true });
    const hash = text !== undefined ? parsePasswordHash(text) : undefined;
    if (text !== undefined && !hash)
      at.fail('passwordHash', 'is not a password hash from `gmail-transport hash-password` ($scrypt$ln=…,r=…,p=…$salt$hash)', hint);
    if (user !== undefined && hash && !duplicate) users.set(user, hash);
  });
  return users.size === value.length ? users : undefined;
}

function parseMetricsNetworks(check: ConfigChecker, admin: Raw): ParsedNetwork[] | undefined {
  const value = admin.metricsNetworks;
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    check.fail('metricsNetworks', `must be a list of networks such as "192.168.10.5" or "192.168.10.0/24", got ${describeType(value)}`);
    return undefined;
  }
  const parsed: ParsedNetwork[] = [];
  value.forEach((entry: unknown, i) => {
    const result = typeof entry === 'string' ? parseNetwork(entry) : { error: `must be a string, got ${describeType(entry)}` };
    if ('error' in result) check.fail(`metricsNetworks[${i}]`, result.error);
    else parsed.push(result);
  });
  return parsed.length === value.length ? parsed : undefined;
}
