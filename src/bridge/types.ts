import type { ErrorCode } from '../errors/error.js';
import type { GmailTransportConfig } from '../strategies/index.js';
import type { Logger } from '../core/logger.js';
import type { SendLogOptions } from '../core/send-log.js';
import type { BudgetStatus } from '../core/budget.js';

// Public types of the bridge. Self-contained on purpose: nothing here mentions smtp-server's
// types, so users who never run a bridge need neither the package nor its declarations.

/**
 * Options of {@link createBridge}: a local SMTP server that accepts mail from devices that cannot
 * do OAuth (printers, scanners, NAS boxes, old applications) and delivers it through `upstream`.
 */
export interface BridgeOptions {
  /** Where devices connect. @default { host: '127.0.0.1', port: 2525 } */
  listen?: BridgeListenOptions;
  /** A certificate for STARTTLS (and the implicit-TLS port). Without it the bridge speaks plain SMTP only. */
  tls?: BridgeTlsOptions;
  /** Device logins. AUTH PLAIN and LOGIN are offered only over TLS unless `allowInsecureAuth`. */
  accounts?: BridgeAccount[];
  /**
   * Networks whose devices may send without logging in, like Google's IP-based relay:
   * `"192.168.10.0/24"`, `"fd00:10::/64"`, or single addresses. IPv4 clients of a dual-stack
   * listener (`::ffff:192.168.10.5`) match their IPv4 network; an IPv6 entry matches IPv4
   * clients only inside `::ffff:0:0/96`. A list whose entries, alone or together, admit every
   * IPv4 or every IPv6 address (or all of `::ffff:0:0/96`) is refused; entries that admit
   * public addresses are logged as a warning at start (`public-networks`).
   */
  allowNetworks?: string[];
  /** Where messages go: any `createGmailTransport` config. */
  upstream: GmailTransportConfig;
  limits?: BridgeLimits;
  /**
   * Offer AUTH on connections without TLS, for old devices on a trusted network that cannot do
   * STARTTLS. Their passwords then cross the network readable by anyone on it; logged loudly at
   * start. @default false
   */
  allowInsecureAuth?: boolean;
  /** The name in the SMTP greeting and in a self-signed certificate. @default os.hostname() */
  hostname?: string;
  /** Receives one line per message, refusals, lockouts and start-up notes. Never a body, password or token. */
  logger?: Logger;
  /**
   * One record per message a device handed over, with the device's `account` and `client`:
   * daily files in `dir` (relative to `baseDir`), read with `gmail-transport log`, or your own
   * `{ write(record) }`. Set it here rather than on `upstream`.
   */
  sendLog?: SendLogOptions;
  /** Directory that relative `tls` paths and a self-signed certificate are relative to. The CLI sets it to the config file's directory. @default process.cwd() */
  baseDir?: string;
  /**
   * Where messages in flight are kept while the upstream is asked to take them: the bridge
   * makes a private directory (0700) in it at start, writes each message to a file of its own
   * (0600) and deletes the file once the device has its answer. Put it on a disk, not on a RAM
   * file system, or the messages take memory after all. @default os.tmpdir()
   */
  spoolDir?: string;
  /**
   * The admin console: status, send log, devices and test mail in a browser (English and
   * Japanese), plus an HTTP API and Prometheus metrics. Off unless given. See docs/bridge.md.
   */
  admin?: BridgeAdminOptions;
}

/** The bridge's admin console (a web page and an HTTP API, served by the bridge itself). */
export interface BridgeAdminOptions {
  /**
   * Where the console listens. A loopback address is served as plain HTTP; any other address
   * is served as HTTPS with the bridge's own certificate, so it needs `tls`.
   * @default { host: '127.0.0.1', port: 8025 }
   */
  listen?: { host?: string; port?: number };
  /** Who may log in (at least one): `passwordHash` from `gmail-transport hash-password`. */
  users: BridgeAdminUser[];
  /** Networks that may read `GET /metrics` without a login (a Prometheus server), e.g. `"192.168.10.5"`. */
  metricsNetworks?: string[];
  /**
   * For an oauth2 upstream: where "Connect Google" keeps the refresh token it gets (mode 0600,
   * sealed with the upstream's `tokenEncryptionKey` when it has one; relative to `baseDir`).
   * When the file exists at start, its token is used instead of `upstream.refreshToken`.
   */
  refreshTokenFile?: string;
}

/** An administrator's login to the console and its API. */
export interface BridgeAdminUser {
  user: string;
  /** From `gmail-transport hash-password`: `$scrypt$ln=15,r=8,p=3$…`. */
  passwordHash: string;
}

export interface BridgeListenOptions {
  /** Address to bind. Binding to a LAN address (or `0.0.0.0`/`::`) is an explicit choice. @default '127.0.0.1' */
  host?: string;
  /** Plain SMTP port, with STARTTLS when `tls` is set; 0 picks a free port. @default 2525 */
  port?: number;
  /** A second port with implicit TLS (SMTPS, RFC 8314), e.g. 465 or 4650. Needs `tls`. */
  tlsPort?: number;
}

/** Lowest TLS version accepted from devices. */
export type BridgeTlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

/** Your certificate (file paths or PEM text), or one the bridge makes and keeps. */
export type BridgeTlsOptions = BridgeTlsFiles | BridgeTlsSelfSigned;

export interface BridgeTlsFiles {
  /** Private key: a PEM string or a file path (relative to `baseDir`). */
  key: string;
  /** Certificate chain: a PEM string or a file path (relative to `baseDir`). */
  cert: string;
  /**
   * Old printers often speak only TLS 1.0 or 1.1; allowing them also lowers OpenSSL's security
   * level for those connections. @default 'TLSv1.2'
   */
  minVersion?: BridgeTlsVersion;
}

export interface BridgeTlsSelfSigned {
  /**
   * Generate a certificate on first start and keep it (`gmail-transport-bridge.crt`/`.key`), so
   * a device that pinned it keeps working after restarts.
   */
  selfSigned: true;
  /** Names and addresses devices use to reach the bridge. @default [hostname, 'localhost', listen.host if it is an address] */
  hostnames?: string[];
  /** Where the certificate and key are kept. @default baseDir (beside the config file) */
  dir?: string;
  /** @default 'TLSv1.2' */
  minVersion?: BridgeTlsVersion;
}

/** A device login. */
export interface BridgeAccount {
  /** The user name the device is configured with. */
  user: string;
  /** From `gmail-transport hash-password` (or `hashPassword()`): `$scrypt$ln=15,r=8,p=3$…`. */
  passwordHash: string;
  /** Sender addresses (`scans@example.com`) or domains (`@example.com`) this account may use. Any sender when absent. */
  allowFrom?: string[];
}

export interface BridgeLimits {
  /**
   * Largest message accepted, in bytes as received (already MIME-encoded). Gmail allows 25 MB
   * of attachments; base64 makes them about 37% larger with line breaks, and smtp.gmail.com
   * advertises `SIZE 35882577` for that reason. @default 35882577
   */
  maxMessageBytes?: number;
  /** Devices connected at once. @default 20 */
  maxConnections?: number;
  /** Recipients per message (Google: 100 per message over SMTP). @default 100 */
  maxRecipients?: number;
  /** Failed logins from one address before it is locked out. @default 5 */
  authFailuresBeforeLockout?: number;
  /** How long a lockout lasts; failures older than this are forgotten. @default 15 */
  lockoutMinutes?: number;
  /** Connections from one address at once, so that no address holds every slot. @default half of maxConnections */
  maxConnectionsPerAddress?: number;
  /**
   * A connection that has not logged in (and is not from `allowNetworks`) is closed this long
   * after its greeting, whatever it sends. @default 30
   */
  loginTimeoutSeconds?: number;
  /** Commands a connection may send before it logs in (unless from `allowNetworks`); the next one closes it. @default 20 */
  maxCommandsBeforeLogin?: number;
}

/** One bound listener. */
export interface BridgeAddress {
  host: string;
  port: number;
  /** `starttls`: plain port offering STARTTLS; `implicit`: TLS from the first byte; `none`: no TLS configured. */
  tls: 'starttls' | 'implicit' | 'none';
}

/** The log line written (and `message` event emitted) once per message a device sent. */
export interface BridgeMessageRecord {
  event: 'message';
  /** The bridge's id for this message: `<session>.<transaction>`. */
  id: string;
  /** The device's address. */
  client: string;
  /** The account the device logged in with; absent for an allowed network without AUTH. */
  account?: string;
  /** Envelope sender (MAIL FROM). */
  from: string;
  recipients: number;
  bytes: number;
  /** The Message-ID header of the message, when it has one. */
  messageId?: string;
  /** `delivered`: 250; `deferred`: 4xx, the device retries; `rejected`: 5xx. */
  outcome: 'delivered' | 'deferred' | 'rejected';
  /** The reply code and enhanced status the device got, e.g. `451 4.4.1`. */
  reply: string;
  /** The upstream error's code, when delivery failed. */
  upstreamCode?: ErrorCode;
  /** The upstream error's summary or the upstream's acceptance reply. */
  upstreamResponse?: string;
  /** Upstream recipients refused while others were accepted. */
  rejectedRecipients?: number;
  /** True for DELIVERY_UNCERTAIN: the device was told to retry, a duplicate is possible. */
  uncertain?: boolean;
  /** The message could not be written to `spoolDir` (an error code such as `ENOSPC`); the device was told to retry. */
  spoolError?: string;
  latencyMs: number;
}

/** Written (and emitted as `refused`) when a device is turned away before a message. */
export interface BridgeRefusalRecord {
  event: 'refused';
  client: string;
  account?: string;
  /** Why, as a stable slug. */
  reason:
    | 'auth-failed'
    | 'locked-out'
    | 'sender-not-allowed'
    | 'network-not-allowed'
    | 'tls-required'
    | 'too-many-recipients'
    | 'too-many-connections'
    | 'login-timeout'
    | 'too-many-commands';
  reply: string;
  /** For `sender-not-allowed`: the refused sender. */
  from?: string;
  /** For `sender-not-allowed` after DATA: the header field whose address is not allowed. */
  header?: 'From' | 'Sender';
  /**
   * In a log line only: this line summarises that many more refusals of the address for the
   * same reason within a minute after the one logged in full (events come one per refusal).
   */
  repeated?: number;
}

/** Written (and emitted as `lockout`) when an address reaches the failed-login limit. */
export interface BridgeLockoutRecord {
  event: 'lockout';
  client: string;
  failures: number;
  /** When the lockout ends (ms since epoch). */
  until: number;
}

/** Events of a {@link Bridge}. */
export interface BridgeEvents {
  message: BridgeMessageRecord;
  refused: BridgeRefusalRecord;
  lockout: BridgeLockoutRecord;
}

/** What {@link Bridge.status} reports. */
export interface BridgeStatus {
  /** The bound listeners; empty before `listen()` and after `close()`. */
  addresses: BridgeAddress[];
  /** The upstream's strategy. */
  upstream: string;
  /** Used and left of the upstream's sending budgets over the last 24 hours (empty with `budget: false`). */
  budget: BudgetStatus[];
  /** The admin console's address, while it listens. */
  admin?: BridgeAdminAddress;
}

/** Where the admin console listens. */
export interface BridgeAdminAddress {
  host: string;
  port: number;
  /** `http://127.0.0.1:8025/` or `https://192.168.10.2:8025/`. */
  url: string;
}

/** What {@link createBridge} returns. */
export interface Bridge {
  /** Binds the listeners; resolves with what was bound (port 0 resolved to the real port). */
  listen(): Promise<BridgeAddress[]>;
  /**
   * Stops accepting connections, lets messages already being received or delivered finish
   * (the device gets its 250 or 4xx), tells idle devices `421`, then closes the upstream.
   */
  close(): Promise<void>;
  /** The bound listeners; empty before `listen()` and after `close()`. */
  readonly addresses: readonly BridgeAddress[];
  /** The admin console's address while it listens (with the `admin` option). */
  readonly admin: BridgeAdminAddress | undefined;
  /** Where the bridge listens and how much its upstream may still send today. */
  status(): Promise<BridgeStatus>;
  on<K extends keyof BridgeEvents>(event: K, listener: (record: BridgeEvents[K]) => void): Bridge;
  off<K extends keyof BridgeEvents>(event: K, listener: (record: BridgeEvents[K]) => void): Bridge;
}
