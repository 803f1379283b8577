import { randomBytes } from 'node:crypto';
import type { SMTPServerAddress, SMTPServerAuthentication, SMTPServerDataStream, SMTPServerOptions, SMTPServerSession } from 'smtp-server';
import type { ResolvedBridgeConfig } from './config.js';
import type { DeviceMessage, DeliveryResult } from './delivery.js';
import { AuthLockout } from './lockout.js';
import { normalizeAddress } from './networks.js';
import { DEFAULT_SCRYPT, verifyPassword, type ParsedPasswordHash } from './password-hash.js';
import { LOCAL_REPLIES, replyError, replyLabel, tooBigReply, type SmtpReply } from './replies.js';
import type { BridgeLockoutRecord, BridgeMessageRecord, BridgeRefusalRecord } from './types.js';

/** What the SMTP handlers need from the bridge around them. */
export interface SessionContext {
  config: ResolvedBridgeConfig;
  deliver(message: DeviceMessage): Promise<DeliveryResult>;
  report(record: BridgeMessageRecord | BridgeRefusalRecord | BridgeLockoutRecord, level: 'info' | 'warn' | 'error'): void;
  /** Registers work the bridge must let finish before it closes. */
  track(work: Promise<unknown>): void;
}

type Handlers = Required<Pick<SMTPServerOptions, 'onConnect' | 'onSecure' | 'onAuth' | 'onMailFrom' | 'onRcptTo' | 'onData'>>;

/**
 * The SMTP server's callbacks: who may log in, who may send as whom, and the hand-over of each
 * message to the upstream. One set serves both listeners.
 */
export function createSessionHandlers(ctx: SessionContext): Handlers {
  const { config } = ctx;
  const lockout = new AuthLockout(config.limits.authFailuresBeforeLockout, config.limits.lockoutMinutes * 60_000);
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
      if (lockout.lockedUntil(client) !== undefined) return callback(refuse(session, 'locked-out', LOCAL_REPLIES.lockedOut));
      const account = config.accounts.get(auth.username ?? '');
      const check = verifyPassword(auth.password ?? '', account?.hash ?? decoy).then((matches) => {
        if (matches && account) {
          lockout.recordSuccess(client);
          callback(null, { user: account.user });
          return;
        }
        const { failures, lockedUntil } = lockout.recordFailure(client);
        // The user name is logged only when it is a real account: a device that failed may
        // have its password typed into the user field.
        const err = refuse(session, 'auth-failed', LOCAL_REPLIES.authFailed, account ? { account: account.user } : {});
        if (lockedUntil !== undefined) ctx.report({ event: 'lockout', client, failures, until: lockedUntil }, 'warn');
        callback(err);
      });
      // RFC 4954 section 6: 454 4.7.0 when the server cannot check the credentials right now.
      ctx.track(check.catch(() => callback(replyError({ code: 454, enhanced: '4.7.0', text: 'Temporary authentication failure' }))));
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

    onData(stream: SMTPServerDataStream, session, callback) {
      const startedAt = Date.now();
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        // Past the limit the rest is read and dropped: the device gets its 552 after the dot.
        if (size <= config.limits.maxMessageBytes) chunks.push(chunk);
      });
      const work = new Promise<void>((resolve) => {
        let received = false;
        // A device that hangs up mid-message: nothing went upstream, nothing to answer.
        stream.on('error', () => resolve());
        stream.once('close', () => {
          if (!received) resolve();
        });
        stream.once('end', () => {
          received = true;
          const mailFrom = session.envelope.mailFrom;
          const message: DeviceMessage = {
            id: `${session.id}.${session.transaction}`,
            client: clientOf(session),
            ...(session.user ? { account: String(session.user) } : {}),
            from: mailFrom ? mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks),
            startedAt,
          };
          if (stream.sizeExceeded || size > config.limits.maxMessageBytes) {
            const reply = tooBigReply(config.limits.maxMessageBytes);
            ctx.report(
              {
                event: 'message',
                id: message.id,
                client: message.client,
                ...(message.account !== undefined ? { account: message.account } : {}),
                from: message.from,
                recipients: message.to.length,
                bytes: size,
                outcome: 'rejected',
                reply: replyLabel(reply),
                latencyMs: Date.now() - startedAt,
              },
              'warn',
            );
            callback(replyError(reply));
            resolve();
            return;
          }
          // Only now, with the upstream's answer, does the device get its reply: 250 means the
          // upstream has the message.
          ctx.deliver(message).then(({ reply, record, level }) => {
            ctx.report(record, level);
            if (reply.code === 250) callback(null, `${reply.enhanced} ${reply.text}`);
            else callback(replyError(reply));
            resolve();
          });
        });
      });
      ctx.track(work);
    },
  };
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
