import { randomBytes } from 'node:crypto';
import type { SMTPServerAddress, SMTPServerAuthentication, SMTPServerDataStream, SMTPServerOptions, SMTPServerSession } from 'smtp-server';
import type { ResolvedBridgeConfig } from './config.js';
import type { DeviceMessage, DeliveryResult } from './delivery.js';
import { headerAddresses } from './headers.js';
import { AuthLockout, UNKNOWN_ACCOUNT } from './lockout.js';
import { normalizeAddress } from './networks.js';
import { DEFAULT_SCRYPT, verifyPassword, type ParsedPasswordHash } from './password-hash.js';
import { headerNotAllowedReply, LOCAL_REPLIES, replyError, replyLabel, tooBigReply, type SmtpReply } from './replies.js';
import { ConnectionSlots, type GuardedConnection, type SlotRefusal } from './slots.js';
import type { Spool, SpooledMessage } from './spool.js';
import type { BridgeLockoutRecord, BridgeMessageRecord, BridgeRefusalRecord } from './types.js';

/** What the SMTP handlers need from the bridge around them. */
export interface SessionContext {
  config: ResolvedBridgeConfig;
  deliver(message: DeviceMessage): Promise<DeliveryResult>;
  report(record: BridgeMessageRecord | BridgeRefusalRecord | BridgeLockoutRecord, level: 'info' | 'warn' | 'error'): void;
  /** Registers work the bridge must let finish before it closes. */
  track(work: Promise<unknown>): void;
  /** Where messages in flight are kept. */
  spool: Spool;
  /** The smtp-server connection a session belongs to (for the slots to count and close it). */
  connectionOf(session: SMTPServerSession): GuardedConnection | undefined;
  /** Failed logins per address; the admin console lists and lifts its lockouts. */
  lockout: AuthLockout;
}

type Handlers = Required<Pick<SMTPServerOptions, 'onConnect' | 'onSecure' | 'onAuth' | 'onMailFrom' | 'onRcptTo' | 'onData' | 'onClose'>>;

const SLOT_REPLIES: Record<SlotRefusal, SmtpReply> = { 'login-timeout': LOCAL_REPLIES.loginTimeout, 'too-many-commands': LOCAL_REPLIES.tooManyCommands };

/**
 * The SMTP server's callbacks: who may log in, who may send as whom, and the hand-over of each
 * message to the upstream. One set serves both listeners.
 */
export function createSessionHandlers(ctx: SessionContext): Handlers {
  const { config } = ctx;
  const { lockout } = ctx;
  const slots = new ConnectionSlots(config.limits);
  const firstHash = config.accounts.values().next().value?.hash;
  // An unknown user is checked against a hash of random bytes with the parameters real accounts
  // use, so that the reply takes as long as for a known user with a wrong password.
  const decoy: ParsedPasswordHash = { ...(firstHash ?? DEFAULT_SCRYPT), salt: randomBytes(16), hash: randomBytes(32) };
  const loginsOffered = config.accounts.size > 0;
  // Commands disabled for every session; a session-level list replaces this one in smtp-server.
  const disabled = [...(config.tls ? [] : ['STARTTLS']), ...(loginsOffered ? [] : ['AUTH'])];
  const hideAuthInClear = loginsOffered && !config.allowInsecureAuth;

  const refuse = (session: SMTPServerSession, reason: BridgeRefusalRecord['reason'], reply: SmtpReply, extra: Partial<BridgeRefusalRecord> = {}): Error => {
    ctx.report(
      { event: 'refused', client: clientOf(session), ...(session.user ? { account: String(session.user) } : {}), reason, reply: replyLabel(reply), ...extra },
      reason === 'too-many-recipients' ? 'info' : 'warn',
    );
    return replyError(reply);
  };

  return {
    onConnect(session, callback) {
      const client = clientOf(session);
      if (lockout.lockedUntil(client) !== undefined) return callback(refuse(session, 'locked-out', LOCAL_REPLIES.lockedOut));
      if (!slots.open(session.id, client)) return callback(refuse(session, 'too-many-connections', LOCAL_REPLIES.tooManyConnections));
      // Devices of allowNetworks send without a login; everyone else must log in, within the
      // slots' deadline and command cap.
      if (!config.networks.allows(client)) {
        const connection = ctx.connectionOf(session);
        // Without its connection the deadline could not be kept: refuse rather than hold a slot.
        if (!connection) return callback(replyError({ code: 421, enhanced: '4.3.0', text: 'Bridge cannot take this connection, try again later' }));
        slots.watch(
          session.id,
          connection,
          (reason) => SLOT_REPLIES[reason],
          (reason) => void refuse(session, reason, SLOT_REPLIES[reason]),
        );
      }
      // smtp-server advertises AUTH in a plaintext EHLO even when it will refuse it there, and
      // AUTH PLAIN carries the password in its first line: a device would send it in clear
      // before the refusal came back. AUTH stays hidden until STARTTLS (cleared in onSecure).
      session.disabledCommands = hideAuthInClear && !session.secure ? [...disabled, 'AUTH'] : [...disabled];
      callback();
    },

    onSecure(_socket, session, callback) {
      session.disabledCommands = [...disabled];
      callback();
    },

    onAuth(auth: SMTPServerAuthentication, session, callback) {
      const client = clientOf(session);
      // A failure is reserved before the check: concurrent attempts from one address never run
      // more checks than the limit allows, the rest are refused as locked out.
      if (!lockout.reserve(client)) return callback(refuse(session, 'locked-out', LOCAL_REPLIES.lockedOut));
      const account = config.accounts.get(auth.username ?? '');
      const key = account?.user ?? UNKNOWN_ACCOUNT;
      const check = verifyPassword(auth.password ?? '', account?.hash ?? decoy)
        .then(
          (matches) => matches,
          () => undefined,
        )
        .then((matches) => {
          if (matches === undefined) {
            lockout.release(client);
            // RFC 4954 section 6: 454 4.7.0 when the server cannot check the credentials right now.
            callback(replyError({ code: 454, enhanced: '4.7.0', text: 'Temporary authentication failure' }));
            return;
          }
          if (matches && account) {
            lockout.recordSuccess(client, key);
            slots.loggedIn(session.id);
            callback(null, { user: account.user });
            return;
          }
          const { failures, lockedUntil } = lockout.recordFailure(client, key);
          // The user name is logged only when it is a real account: a device that failed may
          // have its password typed into the user field.
          const err = refuse(session, 'auth-failed', LOCAL_REPLIES.authFailed, account ? { account: account.user } : {});
          if (lockedUntil !== undefined) ctx.report({ event: 'lockout', client, failures, until: lockedUntil }, 'warn');
          callback(err);
        })
        // A throw out of smtp-server's callback concerns one connection; it must not become an
        // unhandled rejection that stops the bridge.
        .catch(() => undefined);
      ctx.track(check);
    },

    onMailFrom(address: SMTPServerAddress, session, callback) {
      if (session.user) {
        const account = config.accounts.get(String(session.user));
        if (account?.allowFrom && !senderAllowed(address.address, account.allowFrom)) {
          return callback(refuse(session, 'sender-not-allowed', LOCAL_REPLIES.senderNotAllowed, { from: address.address }));
        }
        return callback();
      }
      if (config.networks.allows(clientOf(session))) return callback();
      // No AUTH and not an allowed network: refuse here, or hiding AUTH in clear would make the
      // bridge an open relay.
      if (hideAuthInClear && config.tls && !session.secure) return callback(refuse(session, 'tls-required', LOCAL_REPLIES.tlsRequired));
      return callback(refuse(session, 'network-not-allowed', LOCAL_REPLIES.authRequired));
    },

    onRcptTo(address: SMTPServerAddress, session, callback) {
      const recipients = session.envelope.rcptTo;
      const known = recipients.some((r) => r.address.toLowerCase() === address.address.toLowerCase());
      if (!known && recipients.length >= config.limits.maxRecipients) return callback(refuse(session, 'too-many-recipients', LOCAL_REPLIES.tooManyRecipients));
      callback();
    },

    onData(stream: SMTPServerDataStream, session, done) {
      const startedAt = Date.now();
      // Once: a device gets one answer per message.
      let answered = false;
      const callback: typeof done = (err, message) => {
        if (answered) return;
        answered = true;
        done(err, message);
      };
      const id = `${session.id}.${session.transaction}`;
      const answer = async (spooled: SpooledMessage): Promise<void> => {
        const mailFrom = session.envelope.mailFrom;
        const base = {
          id,
          client: clientOf(session),
          ...(session.user ? { account: String(session.user) } : {}),
          from: mailFrom ? mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
        };
        const messageId = spooled.headers.messageId ? { messageId: spooled.headers.messageId } : {};
        // A message the bridge answers itself, without the upstream.
        const local = (reply: SmtpReply, outcome: 'rejected' | 'deferred', level: 'warn' | 'error', extra: Partial<BridgeMessageRecord> = {}): void => {
          const { to, ...who } = base;
          ctx.report(
            {
              event: 'message',
              ...who,
              recipients: to.length,
              bytes: spooled.bytes,
              ...messageId,
              outcome,
              reply: replyLabel(reply),
              ...extra,
              latencyMs: Date.now() - startedAt,
            },
            level,
          );
          callback(replyError(reply));
        };
        if (stream.sizeExceeded || spooled.tooBig) return local(tooBigReply(config.limits.maxMessageBytes), 'rejected', 'warn');
        const account = session.user ? config.accounts.get(String(session.user)) : undefined;
        const refusedHeader = account?.allowFrom ? headerRefusal(spooled, account.allowFrom) : undefined;
        if (refusedHeader) {
          const { header, address } = refusedHeader;
          return callback(refuse(session, 'sender-not-allowed', headerNotAllowedReply(header), { header, ...(address ? { from: address } : {}) }));
        }
        if (spooled.failure) return local(LOCAL_REPLIES.spoolFailed, 'deferred', 'error', { spoolError: spooled.failure.code ?? 'EIO' });
        const message: DeviceMessage = {
          ...base,
          raw: { path: spooled.path },
          bytes: spooled.bytes,
          ...messageId,
          // RFC 6531 section 3.1: SMTPUTF8 implies 8BITMIME.
          ...(session.envelope.bodyType === '8bitmime' || session.envelope.smtpUtf8 ? { eightBit: true } : {}),
          startedAt,
        };
        // Only now, with the upstream's answer, does the device get its reply: 250 means the
        // upstream has the message.
        const { reply, record, level } = await ctx.deliver(message);
        ctx.report(record, level);
        if (reply.code === 250) callback(null, `${reply.enhanced} ${reply.text}`);
        else callback(replyError(reply));
      };
      const work = ctx.spool.receive(stream, config.limits.maxMessageBytes).then(
        (spooled) =>
          answer(spooled)
            // Not expected (delivery never throws); the device must not wait forever for its reply.
            .catch(() => callback(replyError(LOCAL_REPLIES.spoolFailed)))
            .finally(() => ctx.spool.remove(spooled)),
        // A device that hangs up mid-message: nothing went upstream, nothing to answer.
        () => undefined,
      );
      ctx.track(work.catch(() => undefined));
    },

    onClose(session) {
      slots.closed(session.id);
    },
  };
}

/** The first From or Sender header whose addresses `allowFrom` does not all allow. */
function headerRefusal(spooled: SpooledMessage, allowFrom: readonly string[]): { header: 'From' | 'Sender'; address?: string } | undefined {
  for (const [header, values] of [
    ['From', spooled.headers.from],
    ['Sender', spooled.headers.sender],
  ] as const) {
    for (const value of values) {
      const addresses = headerAddresses(value);
      if (!addresses) return { header };
      const address = addresses.find((a) => !senderAllowed(a, allowFrom));
      if (address !== undefined) return { header, address };
    }
  }
  return undefined;
}

function clientOf(session: SMTPServerSession): string {
  return normalizeAddress(session.remoteAddress);
}

/** `allowFrom` entries are lower-cased addresses or `@domain`s. */
export function senderAllowed(sender: string, allowFrom: readonly string[]): boolean {
  const address = sender.toLowerCase();
  const at = address.lastIndexOf('@');
  if (at <= 0) return false;
  const domain = address.slice(at);
  return allowFrom.some((entry) => (entry.startsWith('@') ? entry === domain : entry === address));
}
