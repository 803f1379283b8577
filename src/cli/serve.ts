import { dirname, resolve } from 'node:path';
import { createGmailTransport } from '../transport/create.js';
import { mapError } from '../errors/map-error.js';
import { readConfig } from '../config/load-config.js';
import { isGmailTransportError, type ConfigIssue, type GmailTransportError } from '../errors/error.js';
import { configError } from '../core/validate.js';
import type { GmailTransportConfig } from '../strategies/index.js';
import type { Logger } from '../core/logger.js';
import {
  diagnosisOf,
  EXIT_FAILED,
  EXIT_OK,
  parseCommandLine,
  printDiagnosis,
  readHiddenLines,
  readSecretInput,
  UsageError,
  type CliIo,
  type CliStdin,
} from './io.js';
import { createBridge } from '../bridge/server.js';
import { resolveBridgeConfig } from '../bridge/config.js';
import { hashPassword } from '../bridge/password-hash.js';
import type { BridgeOptions } from '../bridge/types.js';

/** What the bridge commands need beyond the CLI's common io; defaults are the process's. */
export interface BridgeCliIo {
  stdin: CliStdin;
  /** Where SIGTERM/SIGINT arrive. */
  signals: { once(signal: 'SIGTERM' | 'SIGINT', listener: () => void): unknown; off(signal: 'SIGTERM' | 'SIGINT', listener: () => void): unknown };
  /** Called once listening, with the bound addresses (tests use it to know the port). */
  onListening?: (addresses: ReadonlyArray<{ host: string; port: number }>) => void;
}

export const SERVE_HELP = `Usage: gmail-transport serve --config FILE

Runs the SMTP bridge: printers, scanners and other devices that only speak SMTP with a
password (or from an allowed network) send to it, and it delivers through the upstream of the
config (OAuth2, service account, Gmail API, a relay, failover). A device gets 250 only after
the upstream accepted its message, 451 when it should retry later.

FILE is JSON (listen, tls, accounts, allowNetworks, upstream, limits, spoolDir, sendLog,
allowInsecureAuth, and admin for the admin console in a browser; see docs/bridge.md, in
Japanese docs/ja/bridge.md). Any string may be { "env": "NAME" } or { "file": "path" }.
Relative paths are relative to FILE's folder.

Logs are JSON lines on stdout, one per message. SIGTERM or SIGINT stops accepting, lets
messages in flight finish, then exits.

Options:
  --config FILE   the bridge's config file
  -h, --help      show this help
`;

export const HASH_PASSWORD_HELP = `Usage: gmail-transport hash-password < password.txt

Reads a device password from stdin and prints its scrypt hash for "passwordHash" in the
bridge config. On a terminal it is typed without echo, twice, and a mismatch is refused. The
password itself never goes in the config.

Options:
  -h, --help      show this help
`;

/** `gmail-transport serve`: runs until SIGTERM/SIGINT; returns the exit code. */
export async function runServe(args: readonly string[], io: CliIo & Partial<BridgeCliIo>): Promise<number> {
  const flags = parseCommandLine(args, { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const);
  if (flags.help) {
    io.stdout.write(SERVE_HELP);
    return EXIT_OK;
  }
  if (flags.config === undefined) throw new UsageError('--config FILE is required');
  const configPath = resolve(io.cwd, flags.config);
  const logger = jsonLinesLogger(io.stdout);
  let bridge: ReturnType<typeof createBridge>;
  let upstream: GmailTransportConfig;
  try {
    const { value: config, issues: references } = await readConfig<Record<string, unknown>>(configPath, { env: io.env, cwd: io.cwd });
    const baseDir = typeof config.baseDir === 'string' ? resolve(dirname(configPath), config.baseDir) : dirname(configPath);
    bridge = createBridgeReportingAll({ ...(config as unknown as BridgeOptions), baseDir, logger }, references);
    upstream = config.upstream as GmailTransportConfig;
    // The start-up check uses the refresh token the bridge uses: the one Connect Google kept, if any.
    const kept = resolveBridgeConfig({ ...(config as unknown as BridgeOptions), baseDir }).upstream as { refreshToken?: unknown };
    if (typeof kept.refreshToken === 'string') upstream = { ...upstream, refreshToken: kept.refreshToken } as GmailTransportConfig;
    const addresses = await bridge.listen();
    io.stderr.write(
      `gmail-transport serve: listening on ${addresses.map((a) => `${a.host}:${a.port} (${a.tls === 'none' ? 'no TLS' : a.tls === 'implicit' ? 'implicit TLS' : 'STARTTLS'})`).join(', ')}\n`,
    );
    if (bridge.admin) io.stderr.write(`gmail-transport serve: admin console at ${bridge.admin.url}\n`);
    io.onListening?.(addresses);
  } catch (err) {
    printDiagnosis(io, 'gmail-transport serve', diagnosisOf(err));
    return EXIT_FAILED;
  }
  // Problems with the upstream's credentials show at start, not at the first scan of the day.
  // Not fatal: Google may be unreachable for a moment, and devices then get 451 and retry.
  const state = { stopping: false };
  void verifyUpstream(upstream, logger, state);

  const signals = io.signals ?? process;
  await new Promise<void>((done) => {
    const stop = () => {
      signals.off('SIGTERM', stop);
      signals.off('SIGINT', stop);
      done();
    };
    signals.once('SIGTERM', stop);
    signals.once('SIGINT', stop);
  });
  state.stopping = true;
  logger.info?.({ event: 'stopping' }, 'gmail-transport bridge: stopping; messages in flight finish first');
  await bridge.close();
  return EXIT_OK;
}

/**
 * createBridge, with the config's unresolved secret references (an unset variable, a missing
 * file) reported in the same error as every other problem of the config, not one run before
 * them. A field whose reference failed is reported once, as the reference.
 */
function createBridgeReportingAll(options: BridgeOptions, references: readonly ConfigIssue[]): ReturnType<typeof createBridge> {
  if (references.length === 0) return createBridge(options);
  let invalid: GmailTransportError | undefined;
  try {
    resolveBridgeConfig(options);
  } catch (err) {
    if (!isGmailTransportError(err) || err.code !== 'CONFIG_INVALID') throw err;
    invalid = err;
  }
  const covered = (path: string) => references.some((ref) => path === ref.path || path.startsWith(`${ref.path}.`) || path.startsWith(`${ref.path}[`));
  const issues = [...references, ...(invalid?.issues ?? []).filter((issue) => !covered(issue.path))];
  // Each issue has its own hint; the error's is the bridge's, or the only issue's.
  throw configError(issues, issues.length === 1 && issues[0]!.hint ? [issues[0]!.hint] : [], undefined, 'en', 'CONFIG_INVALID:bridge');
}

async function verifyUpstream(config: GmailTransportConfig, logger: Logger, state: { stopping: boolean }): Promise<void> {
  const mailer = createGmailTransport(config);
  try {
    await mailer.verify();
    if (state.stopping) return;
    logger.info?.({ event: 'upstream-verified' }, 'gmail-transport bridge: upstream verified (connected, and logged in where it has credentials)');
  } catch (err) {
    const e = mapError(err);
    // After a stop the answer no longer matters, and the last line stays "closed".
    if (state.stopping) return;
    logger.error?.(
      { event: 'upstream-verify-failed', code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) },
      'gmail-transport bridge: upstream check failed; devices will get 451 until it is fixed',
    );
  } finally {
    mailer.close();
  }
}

/** `gmail-transport hash-password`: reads a password from stdin, prints its hash. */
export async function runHashPassword(args: readonly string[], io: CliIo & Partial<BridgeCliIo>): Promise<number> {
  const flags = parseCommandLine(args, { help: { type: 'boolean', short: 'h' } } as const);
  if (flags.help) {
    io.stdout.write(HASH_PASSWORD_HELP);
    return EXIT_OK;
  }
  const stdin = io.stdin ?? process.stdin;
  let password: string | undefined;
  if (stdin.isTTY && stdin.setRawMode) {
    // Typed without echo, a typo would go unseen into every printer's settings: ask twice.
    const answers = await readHiddenLines(stdin, io, ['Device password (not shown): ', 'The same password again: ']);
    if (answers === undefined) return EXIT_FAILED;
    if (answers[0] !== answers[1]) {
      io.stderr.write('gmail-transport hash-password: the two passwords differ; nothing was hashed. Run it again.\n');
      return EXIT_FAILED;
    }
    password = answers[0] ?? '';
  } else {
    password = await readSecretInput(stdin, io, '');
    if (password === undefined) return EXIT_FAILED;
  }
  if (password === '') {
    io.stderr.write('gmail-transport hash-password: no password given on stdin\n');
    return EXIT_FAILED;
  }
  if (password.length < 12)
    io.stderr.write('gmail-transport hash-password: note: this password is short; a device password of 16+ random characters is stronger\n');
  io.stdout.write(`${await hashPassword(password)}\n`);
  return EXIT_OK;
}

/** The CLI's logger: one JSON object per line on stdout, for journald, Docker or a log shipper. */
export function jsonLinesLogger(out: { write(text: string): unknown }): Required<Logger> {
  const line = (level: string) => (obj: Record<string, unknown>, msg?: string) => {
    out.write(`${JSON.stringify({ time: new Date().toISOString(), level, ...(msg ? { msg } : {}), ...obj })}\n`);
  };
  return { debug: () => undefined, info: line('info'), warn: line('warn'), error: line('error') };
}
