import { EventEmitter } from 'node:events';
import type { SMTPServer, SMTPServerOptions } from 'smtp-server';
import { createGmailTransport, type GmailTransporter } from '../transport/create.js';
import type { GmailTransportConfig } from '../strategies/index.js';
import type { Logger } from '../core/logger.js';
import { resolveBridgeConfig, type ResolvedBridgeConfig } from './config.js';
import type { GuardedConnection } from './slots.js';
import { AuthLockout } from './lockout.js';
import type { ConsoleActivity, RunningConsole } from './console/index.js';
import type {
  Bridge,
  BridgeAddress,
  BridgeAdminAddress,
  BridgeEvents,
  BridgeLockoutRecord,
  BridgeMessageRecord,
  BridgeOptions,
  BridgeRefusalRecord,
  BridgeStatus,
  BridgeTlsVersion,
} from './types.js';

type BridgeRuntime = typeof import('./runtime.js');
type ConsoleModule = typeof import('./console/index.js');
type Record = BridgeMessageRecord | BridgeRefusalRecord | BridgeLockoutRecord;
type SmtpConnectionLike = GuardedConnection & { session: unknown; close(): void };

/**
 * Creates a local SMTP bridge: devices that only speak SMTP with a password (or no login at
 * all) hand it their mail, and it delivers each message through `upstream`, any
 * `createGmailTransport` config. The device gets `250` only once the upstream has accepted the
 * message; a failure the same message may survive answers `451` so the device retries.
 *
 * Options are validated here, before any socket; nothing listens until `listen()`.
 *
 * @throws GmailTransportError `CONFIG_INVALID` listing every invalid field by path.
 * @example
 * ```ts
 * const bridge = createBridge({
 *   listen: { host: '192.168.10.2', port: 2525 },
 *   tls: { selfSigned: true },
 *   accounts: [{ user: 'printer', passwordHash: process.env.PRINTER_HASH!, allowFrom: ['scans@example.com'] }],
 *   upstream: { strategy: 'app-password', user: 'scans@example.com', appPassword: process.env.GMAIL_APP_PASSWORD! },
 *   logger: pino(),
 * });
 * await bridge.listen();
 * process.once('SIGTERM', () => void bridge.close());
 * ```
 */
export function createBridge(options: BridgeOptions): Bridge {
  const config = resolveBridgeConfig(options);
  return new SmtpBridge(config, createGmailTransport(config.upstream));
}

class SmtpBridge extends EventEmitter implements Bridge {
  readonly #config: ResolvedBridgeConfig;
  #upstream: GmailTransporter;
  readonly #logger: Logger | undefined;
  readonly #inFlight = new Set<Promise<unknown>>();
  /** What only a listening bridge needs; loaded by listen() (see runtime.ts). */
  #runtime?: BridgeRuntime;
  #servers: SMTPServer[] = [];
  #refusals?: InstanceType<BridgeRuntime['RefusalLog']>;
  #addresses: BridgeAddress[] = [];
  #listening?: Promise<BridgeAddress[]>;
  #closing?: Promise<void>;
  readonly #lockout: AuthLockout;
  #console?: RunningConsole;
  #activity?: ConsoleActivity;

  constructor(config: ResolvedBridgeConfig, upstream: GmailTransporter) {
    super();
    this.#config = config;
    this.#upstream = upstream;
    this.#logger = config.logger;
    this.#lockout = new AuthLockout(config.limits.authFailuresBeforeLockout, config.limits.lockoutMinutes * 60_000);
    this.#watch(upstream);
  }

  #watch(upstream: GmailTransporter): void {
    // A record the send log could not write is reported as the upstream's warning; the operator
    // learns that the day's budget is running low before devices get 451s.
    upstream.on('warning', (warning) => {
      if (warning.code.startsWith('SEND_LOG_')) this.#logger?.warn?.({ event: 'send-log', code: warning.code }, `gmail-transport bridge: ${warning.message}`);
      else if (warning.code === 'BUDGET_LOW')
        this.#logger?.warn?.({ event: 'budget-low', message: warning.message }, 'gmail-transport bridge: the upstream sending budget is running low');
    });
    upstream.on('token', (event) => this.#activity?.noteToken(event));
  }

  /**
   * Swaps in an upstream that uses `refreshToken` (Connect Google in the console). Messages
   * already on their way finish on the old one, which closes after them.
   */
  #replaceRefreshToken(refreshToken: string): void {
    const next = createGmailTransport({ ...this.#config.upstream, refreshToken } as GmailTransportConfig);
    this.#watch(next);
    const old = this.#upstream;
    this.#upstream = next;
    void Promise.allSettled([...this.#inFlight]).then(() => old.close());
  }

  async status(): Promise<BridgeStatus> {
    const admin = this.#console ? { admin: { ...this.#console.address } } : {};
    return { addresses: [...this.#addresses], upstream: this.#config.upstreamStrategy, budget: await this.#upstream.budgetStatus(), ...admin };
  }

  get addresses(): readonly BridgeAddress[] {
    return [...this.#addresses];
  }

  get admin(): BridgeAdminAddress | undefined {
    return this.#console ? { ...this.#console.address } : undefined;
  }

  override on<K extends keyof BridgeEvents>(event: K, listener: (record: BridgeEvents[K]) => void): this {
    return super.on(event, listener);
  }

  override off<K extends keyof BridgeEvents>(event: K, listener: (record: BridgeEvents[K]) => void): this {
    return super.off(event, listener);
  }

  listen(): Promise<BridgeAddress[]> {
    if (this.#closing) return Promise.reject(new Error('gmail-transport bridge: listen() after close()'));
    this.#listening ??= this.#start().catch(async (err: unknown) => {
      await Promise.all(this.#servers.map((s) => new Promise<void>((done) => s.close(() => done()))));
      this.#servers = [];
      this.#addresses = [];
      this.#listening = undefined;
      throw err;
    });
    return this.#listening;
  }

  close(): Promise<void> {
    this.#closing ??= this.#stop();
    return this.#closing;
  }

  async #start(): Promise<BridgeAddress[]> {
    // Loaded here, not at import: library users who never run a bridge do not pay for it.
    const runtime = (this.#runtime ??= await import('./runtime.js'));
    const { SMTPServer, bind, createSessionHandlers, createSpool, deliverUpstream, RefusalLog } = runtime;
    const config = this.#config;
    const tls = await this.#tlsMaterial(runtime);
    const spool = await createSpool(config.spoolDir);
    this.#refusals = new RefusalLog((record, level, text) => this.#logger?.[level]?.({ ...record }, text));
    const handlers = createSessionHandlers({
      config,
      deliver: (message) => deliverUpstream(this.#upstream, message),
      report: (record, level) => this.#report(record, level),
      track: (work) => {
        this.#inFlight.add(work);
        void work.finally(() => this.#inFlight.delete(work));
      },
      spool,
      lockout: this.#lockout,
      connectionOf: (session) => {
        for (const server of this.#servers) {
          for (const connection of server.connections as unknown as Set<SmtpConnectionLike>) if (connection.session === session) return connection;
        }
        return undefined;
      },
    });
    const common: SMTPServerOptions = {
      name: config.hostname,
      banner: 'gmail-transport bridge',
      logger: false,
      // A LAN device's address says enough; a reverse lookup would delay every greeting.
      disableReverseLookup: true,
      authMethods: ['PLAIN', 'LOGIN'],
      // Logins are optional for allowNetworks; onMailFrom refuses everyone else (no open relay).
      authOptional: true,
      allowInsecureAuth: config.allowInsecureAuth,
      disabledCommands: [...(tls ? [] : ['STARTTLS']), ...(config.accounts.size > 0 ? [] : ['AUTH'])],
      size: config.limits.maxMessageBytes,
      maxClients: config.limits.maxConnections,
      // close() ends idle connections itself once messages in flight are done; smtp-server's
      // own deadline must not cut a delivery short (RFC 5321 4.5.3.2.6 gives a client 10 min
      // for the reply to the final dot).
      closeTimeout: 10 * 60_000,
      // Our replies carry their own RFC 3463 codes (see replies.ts).
      hideENHANCEDSTATUSCODES: true,
      ...(tls ? { key: tls.key, cert: tls.cert, minVersion: tls.minVersion, ...(tls.legacy ? { ciphers: 'DEFAULT@SECLEVEL=0' } : {}) } : {}),
      ...handlers,
    };
    const listeners: Array<{ port: number; tls: BridgeAddress['tls'] }> = [{ port: config.listen.port, tls: tls ? 'starttls' : 'none' }];
    if (config.listen.tlsPort !== undefined) listeners.push({ port: config.listen.tlsPort, tls: 'implicit' });
    for (const listener of listeners) {
      const server = new SMTPServer({ ...common, secure: listener.tls === 'implicit' });
      this.#servers.push(server);
      const port = await bind(server, config.listen.host, listener.port, (err) =>
        this.#logger?.debug?.(
          { event: 'connection-error', code: (err as NodeJS.ErrnoException).code ?? 'error' },
          'gmail-transport bridge: a device connection failed',
        ),
      );
      this.#addresses.push({ host: config.listen.host, port, tls: listener.tls });
    }
    if (config.admin) await this.#startConsole(await import('./console/index.js'), tls);
    this.#announce();
    return this.addresses as BridgeAddress[];
  }

  async #startConsole(module: ConsoleModule, tls: { key: string; cert: string } | undefined): Promise<void> {
    const config = this.#config;
    const activity = new module.ConsoleActivity();
    this.#activity = activity;
    // What the status page and /metrics show is gathered from here on.
    this.on('message', (record) => activity.noteMessage(record));
    this.on('lockout', (record) => activity.noteLockout(record));
    this.#console = await module.startConsole({
      config: config as typeof config & { admin: NonNullable<typeof config.admin> },
      activity,
      smtpLockout: this.#lockout,
      upstream: () => this.#upstream,
      replaceRefreshToken: (token) => this.#replaceRefreshToken(token),
      addresses: () => this.#addresses,
      ...(this.#logger ? { logger: this.#logger } : {}),
      ...(tls ? { tls: { key: tls.key, cert: tls.cert } } : {}),
    });
  }

  async #tlsMaterial({
    loadOrCreateSelfSigned,
  }: BridgeRuntime): Promise<{ key: string; cert: string; minVersion: BridgeTlsVersion; legacy: boolean } | undefined> {
    const tls = this.#config.tls;
    if (!tls) return undefined;
    const legacy = tls.minVersion === 'TLSv1' || tls.minVersion === 'TLSv1.1';
    if (tls.kind === 'files') return { key: tls.key.reveal(), cert: tls.cert, minVersion: tls.minVersion, legacy };
    const made = await loadOrCreateSelfSigned(tls, this.#config);
    if (made.created)
      this.#logger?.info?.(
        { event: 'self-signed', certificate: made.certPath, sha256: made.fingerprint },
        'gmail-transport bridge: generated a self-signed certificate',
      );
    return { key: made.key, cert: made.cert, minVersion: tls.minVersion, legacy };
  }

  #announce(): void {
    const config = this.#config;
    const logger = this.#logger;
    logger?.info?.(
      {
        event: 'listening',
        addresses: this.#addresses,
        ...(this.#console ? { admin: this.#console.address.url } : {}),
        accounts: config.accounts.size,
        allowNetworks: config.networkList,
        upstream: config.upstreamStrategy,
        maxMessageBytes: config.limits.maxMessageBytes,
      },
      'gmail-transport bridge: listening',
    );
    if (config.publicNetworks.length > 0) {
      logger?.warn?.(
        { event: 'public-networks', allowNetworks: config.publicNetworks },
        `gmail-transport bridge: allowNetworks admits public internet addresses (${config.publicNetworks.join(', ')}): anyone there who reaches the port sends mail without a login. List only your own networks (private, e.g. 192.168.10.0/24, or fd00::/8).`,
      );
    }
    if (config.allowInsecureAuth) {
      logger?.warn?.(
        { event: 'insecure-auth' },
        'gmail-transport bridge: allowInsecureAuth is ON: devices may log in without TLS, and their passwords cross the network readable by anyone on it. Use it only on a trusted, isolated network.',
      );
    }
    if (config.weakHashes.length > 0) {
      logger?.warn?.(
        { event: 'weak-password-hash', accounts: config.weakHashes },
        'gmail-transport bridge: some password hashes are weaker than recommended; re-create them with `gmail-transport hash-password`',
      );
    }
    const tls = config.tls;
    if (tls?.kind === 'files' && tls.notAfter !== undefined && tls.notAfter < Date.now()) {
      logger?.warn?.(
        { event: 'certificate-expired', notAfter: new Date(tls.notAfter).toISOString() },
        'gmail-transport bridge: the TLS certificate has expired; devices that check it will refuse to connect',
      );
    }
  }

  #report(record: Record, level: 'info' | 'warn' | 'error'): void {
    // Refusals repeat as fast as a stranger sends commands: the log gets a summary of them.
    if (record.event === 'refused') this.#refusals?.note(record, level);
    else {
      const text =
        record.event === 'message'
          ? `gmail-transport bridge: message ${record.outcome} (${record.reply})`
          : 'gmail-transport bridge: address locked out after failed logins';
      this.#logger?.[level]?.({ ...record }, text);
    }
    this.emit(record.event, record);
  }

  async #stop(): Promise<void> {
    await this.#listening?.catch(() => undefined);
    const servers = this.#servers;
    // Stop accepting: the listening sockets close at once, and smtp-server answers any new
    // command on an open connection with 421.
    const closed = servers.map((server) => new Promise<void>((done) => server.close(() => done())));
    const running = this.#console;
    this.#console = undefined;
    await running?.close();
    // Messages being received or delivered finish first: their devices get the real answer.
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
    for (const server of servers) {
      for (const connection of server.connections as unknown as Set<SmtpConnectionLike>) {
        // Servers exist only once listen() loaded the runtime.
        const { code, enhanced, text } = this.#runtime!.LOCAL_REPLIES.shuttingDown;
        connection.send(code, `${enhanced} ${text}`, false);
        connection.close();
      }
    }
    await Promise.all(closed);
    this.#addresses = [];
    this.#refusals?.flush();
    this.#upstream.close();
    this.#logger?.info?.({ event: 'closed' }, 'gmail-transport bridge: closed');
  }
}
