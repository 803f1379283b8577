import { createTransport, type SentMessageInfo } from 'nodemailer';
import type { ResolvedConfig } from '../../core/config.js';
import type { SmtpPlan } from '../../core/smtp-plan.js';
import type { StrategyContext } from '../../core/context.js';
import { mapError, carryError, type MapErrorContext } from '../../errors/map-error.js';
import { requiredAuthOptions } from './smtp-auth.js';
import { TlsModeCheck } from './tls-mode.js';
import { maxRecipientsOf } from './smtp-endpoint.js';
import { signalOf } from '../../delivery/abort.js';
import type { GmailTransportError } from '../../errors/error.js';
import type { OutgoingMail, Route, SendCallback } from '../../core/route.js';
import { Secret } from '../../core/secret.js';
import { noteContentUnread } from '../../delivery/retry.js';
import { noteSize } from '../../send-log/trace.js';
import { envelopeForAttempt } from '../../core/envelope.js';

type BodyProgress = NonNullable<MapErrorContext['body']>;

/**
 * How long a plain-text connection waits for the server's greeting. Submission servers greet at
 * once; nodemailer's 30 s, three attempts over, kept a user whose port expects implicit TLS
 * waiting 90 s for a verdict. After this long the port is probed for TLS (see TlsModeCheck).
 */
export const DEFAULT_GREETING_TIMEOUT_MS = 10_000;

type InnerTransport = {
  send(mail: OutgoingMail, callback: (err: Error | null, info: SentMessageInfo) => void): void;
  verify(): Promise<true>;
  close(): void;
  isIdle?(): boolean;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
};

/**
 * Delivers through nodemailer's own SMTP client (one connection per message, or its pool).
 * What we add: our endpoint and TLS policy, tokens from the shared provider, no requeue of a
 * message whose fate is unknown, and every error classified with the phase it failed in.
 */
export class SmtpRoute implements Route {
  readonly strategy: string;
  readonly user: string | undefined;
  readonly maxRecipients?: number;
  readonly #inner: InnerTransport;
  readonly #errorContext: MapErrorContext;
  readonly #tlsMode: TlsModeCheck;

  constructor(plan: SmtpPlan, config: ResolvedConfig, ctx: StrategyContext) {
    this.strategy = config.strategy;
    this.user = plan.auth?.user;
    this.#tlsMode = new TlsModeCheck(plan.endpoint, { strategy: config.strategy, locale: config.locale });
    const maxRecipients = maxRecipientsOf(plan.endpoint.host);
    if (maxRecipients !== undefined) this.maxRecipients = maxRecipients;
    this.#errorContext = { ...plan.errorContext, strategy: config.strategy, locale: config.locale };
    const { endpoint, auth } = plan;
    const options: Record<string, unknown> = {
      host: endpoint.host,
      port: endpoint.port,
      secure: endpoint.secure,
      requireTLS: endpoint.requireTLS,
      ...(endpoint.name ? { name: endpoint.name } : {}),
      ...(endpoint.tls ? { tls: endpoint.tls } : {}),
      ...(endpoint.connectionTimeoutMs ? { connectionTimeout: endpoint.connectionTimeoutMs } : {}),
      greetingTimeout: endpoint.greetingTimeoutMs ?? DEFAULT_GREETING_TIMEOUT_MS,
      ...(endpoint.socketTimeoutMs ? { socketTimeout: endpoint.socketTimeoutMs } : {}),
      logger: false,
    };
    if (!endpoint.requireTLS && !endpoint.secure) {
      // Opt-in cleartext (a local test server): still upgrade when STARTTLS is offered.
      options.opportunisticTLS = true;
    }
    if (auth) Object.assign(options, requiredAuthOptions(auth, endpoint, { strategy: config.strategy, locale: config.locale }));
    if (auth?.kind === 'password') {
      options.auth = { user: auth.user, pass: auth.pass.reveal(), ...(auth.method ? { method: auth.method } : {}) };
    } else if (auth?.kind === 'oauth2') {
      const tokens = auth.tokens;
      const errorContext = this.#errorContext;
      options.auth = {
        type: 'OAuth2',
        user: auth.user,
        // nodemailer calls this for a token at each login, with renew=true after the server
        // answered XOAUTH2 with its 334 challenge: one forced refresh, then one more try, then
        // EAUTH. Our provider shares that refresh across connections, pools and transports.
        // A plain function: nodemailer calls it as a method of its XOAuth2 object, whose
        // `accessToken` is then the token the server just refused; naming it lets the provider
        // tell a refusal it already answered (another connection's) from a new one.
        provisionCallback(this: { accessToken?: unknown } | undefined, _user: string, renew: boolean, callback: (err: Error | null, token?: string, expires?: number) => void) {
          const refused = renew && typeof this?.accessToken === 'string' ? new Secret(this.accessToken) : undefined;
          tokens.getAccessToken({ forceRefresh: renew, ...(refused ? { rejectedToken: refused } : {}) }).then(
            // nodemailer reuses a token until the expiry given here without asking again: give
            // it the provider's refresh time, so the eager refresh happens.
            (t) => callback(null, t.token.reveal(), t.refreshAt ?? t.expiresAt),
            (err: unknown) => callback(carryError(mapError(err, { ...errorContext, phase: 'token' }))),
          );
        },
      };
    }
    // nodemailer's createTransport builds its SMTPPool or SMTPTransport from these options; we
    // keep that transport and call it directly. (Not `new SMTPPool()` from nodemailer/lib/*:
    // resolving a deep subpath through nodemailer's exports map is the largest single cost of
    // importing this package, about 2 ms, while the entry is loaded already.)
    const wrapper = createTransport({
      ...options,
      ...(config.pool
        ? {
            pool: true,
            maxConnections: config.pool.maxConnections,
            maxMessages: config.pool.maxMessages,
            ...(config.pool.rateDelta ? { rateDelta: config.pool.rateDelta } : {}),
            ...(config.pool.rateLimit ? { rateLimit: config.pool.rateLimit } : {}),
            // The pool would resend a message whose connection closed mid-delivery, including
            // after the final dot, when the server may already have accepted it: a duplicate.
            // We decide retries ourselves, knowing how far the body got.
            maxRequeues: 0,
          }
        : {}),
    } as Parameters<typeof createTransport>[0]);
    this.#inner = wrapper.transporter as unknown as InnerTransport;
    // A pool reports errors of idle connections as events, which the wrapper repeats;
    // unhandled, they would crash the process.
    wrapper.on('error', (err: unknown) => {
      const mapped = mapError(err, this.#errorContext);
      ctx.emit('warning', { code: mapped.code, message: mapped.message, strategy: this.strategy });
    });
  }

  send(mail: OutgoingMail, callback: SendCallback): void {
    const root = mail.message;
    const progress = new TrackedRoot(root);
    // nodemailer's SMTP code reads the MIME root off the mail when it sends (a pool: once the
    // message leaves its queue); for this attempt it reads the tracked one. Given back before
    // anything else sees the mail: our error mapping, a retry, the next route of a failover.
    mail.message = progress as unknown as MimeRoot;
    let called = false;
    try {
      this.#inner.send(mail, (err, info) => {
        // Once, whatever nodemailer does: a second failure would start a second retry loop,
        // and the message could go out twice (a promise settled once did this before).
        if (called) return;
        called = true;
        mail.message = root;
        if (progress.size !== undefined) noteSize(mail, progress.size);
        if (err) {
          if (!progress.contentRead) noteContentUnread(mail);
          const mapped = this.#map(err, progress, mail);
          const suspect = this.#tlsMode.suspect(err);
          if (suspect) void this.#tlsMode.diagnose(suspect, mapped).then(callback);
          else callback(mapped);
          return;
        }
        callback(null, info);
      });
    } catch (err) {
      // A throw out of our own callback belongs to the code it ran (the caller's): pass it on.
      if (called) throw err;
      mail.message = root;
      // nodemailer reports failures through the callback; a throw before it is a bug of its or
      // ours, still an error of this send.
      callback(this.#map(err, progress, mail));
    }
  }

  async verify(): Promise<true> {
    try {
      return await this.#inner.verify();
    } catch (err) {
      const mapped = this.#map(err, { body: 'not-sent', reachedEnvelope: false });
      const suspect = this.#tlsMode.suspect(err);
      throw suspect ? await this.#tlsMode.diagnose(suspect, mapped) : mapped;
    }
  }

  close(): void {
    this.#inner.close();
  }

  isIdle(): boolean {
    return typeof this.#inner.isIdle === 'function' ? Boolean(this.#inner.isIdle()) : true;
  }

  onIdle(listener: () => void): void {
    this.#inner.on('idle', listener);
  }

  #map(err: unknown, progress: Pick<TrackedRoot, 'body' | 'reachedEnvelope'>, mail?: OutgoingMail): GmailTransportError {
    const messageId = mail ? safeMessageId(mail) : undefined;
    return mapError(err, {
      ...this.#errorContext,
      body: progress.body,
      ...(progress.reachedEnvelope ? { reached: 'mail' as const } : {}),
      ...(messageId ? { messageId } : {}),
      ...(mail && signalOf(mail)?.aborted ? { aborted: true } : {}),
    });
  }
}

type MimeRoot = OutgoingMail['message'];
type BodyStream = ReturnType<MimeRoot['createReadStream']>;

/**
 * The MIME root as nodemailer's SMTP code sees it during one attempt, following how far the
 * attempt got. smtp-transport and smtp-pool both call `getEnvelope()` once logged in, then
 * `createReadStream()`, and pipe that stream into the connection only after the server
 * answered DATA with 354: the pipe marks the body as partly sent, and the end of the stream it
 * is piped into (the final dot handed to the socket) as wholly sent. A dot handed to the socket
 * may or may not have arrived, so a loss after that is DELIVERY_UNCERTAIN; before it, the
 * server cannot have taken the message (RFC 5321 §4.1.1.4: it takes it on the final dot).
 *
 * A plain object in front of the root, not a Proxy and not an own property on nodemailer's
 * objects. Proxies around the mail, the root and the stream (a trap on every read, a `bind` on
 * every method read) kept pooled sends at about 4% more CPU than plain nodemailer's, against
 * 1.5-3.5% with this object; own properties on every MIME root made V8 reshape objects it
 * sees by the thousand (docs/decisions/). Every other method of the root is
 * forwarded to it (see `forwardTo`), so a nodemailer that calls one more still works.
 */
class TrackedRoot {
  body: BodyProgress = 'not-sent';
  /** The session got past greeting, EHLO and AUTH: nodemailer asked for the envelope. */
  reachedEnvelope = false;
  /** The message content (and any stream in it) started to be read. */
  contentRead = false;
  /** Bytes of the message, once its final dot was handed to the socket. */
  size: number | undefined;
  readonly root: MimeRoot;

  constructor(root: MimeRoot) {
    this.root = root;
    const proto = Object.getPrototypeOf(root) as object | null;
    if (proto !== forwardedFrom) forwardTo(proto);
  }

  getEnvelope(): ReturnType<MimeRoot['getEnvelope']> {
    this.reachedEnvelope = true;
    return envelopeForAttempt(this.root);
  }

  messageId(): string {
    return this.root.messageId();
  }

  getHeader(key: string): ReturnType<MimeRoot['getHeader']> {
    return this.root.getHeader(key);
  }

  createReadStream(options?: Parameters<MimeRoot['createReadStream']>[0]): BodyStream {
    this.contentRead = true;
    const stream = this.root.createReadStream(options);
    // `pipe` puts the stream in flowing mode, which Node announces with 'resume' on the next
    // tick, before the first chunk moves; nothing else resumes the message stream. A listener
    // on nodemailer's stream rather than a wrapper around it: the stream reaches the connection
    // as it is.
    stream.on('resume', () => this.#piped(stream));
    return stream;
  }

  #piped(stream: BodyStream): void {
    if (this.body !== 'not-sent') return; // a resume after backpressure
    this.body = 'partial';
    // The destination is nodemailer's DataStream, which dot-stuffs the message and appends the
    // final "\r\n.\r\n"; its readable side ends once that dot has been handed to the socket.
    // The message's own stream may end much earlier: its content sits in buffers until the
    // socket drains, and a connection lost meanwhile never carried the dot. Node lists a
    // stream's pipe destinations only in its state object; should that ever change, the body
    // counts as wholly sent from the start, which never resends (DELIVERY_UNCERTAIN) rather
    // than risk a duplicate.
    const destination = pipeDestination(stream);
    if (!destination) {
      this.body = 'complete';
      return;
    }
    destination.on('end', () => {
      this.body = 'complete';
      // nodemailer's DataStream counts the message bytes it was given (before dot-stuffing).
      const size = (destination as { inByteCount?: unknown }).inByteCount;
      if (typeof size === 'number') this.size = size;
    });
  }
}

function pipeDestination(stream: BodyStream): NodeJS.EventEmitter | undefined {
  const pipes = (stream as { _readableState?: { pipes?: unknown } })._readableState?.pipes;
  const destination: unknown = Array.isArray(pipes) ? pipes[pipes.length - 1] : undefined;
  return typeof (destination as NodeJS.EventEmitter | undefined)?.on === 'function' ? (destination as NodeJS.EventEmitter) : undefined;
}

/** The prototype of the MIME roots whose methods TrackedRoot forwards (nodemailer's MimeNode). */
let forwardedFrom: object | null | undefined;

/**
 * Gives TrackedRoot every method of the root's class it does not track, each calling the real
 * root: nodemailer's SMTP code calls the four above today, a later version may call another.
 * Done once per process (the roots all share one class); own data properties of a root are
 * not forwarded, no SMTP transport of nodemailer's reads one.
 */
function forwardTo(proto: object | null): void {
  forwardedFrom = proto;
  const forwarding: Record<string, unknown> = {};
  for (let p = proto; p && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    for (const key of Object.getOwnPropertyNames(p)) {
      if (key === 'constructor' || Object.hasOwn(forwarding, key) || Object.hasOwn(TrackedRoot.prototype, key)) continue;
      const descriptor = Object.getOwnPropertyDescriptor(p, key);
      if (typeof descriptor?.value !== 'function') continue;
      forwarding[key] = function (this: TrackedRoot, ...args: unknown[]): unknown {
        return (this.root as unknown as Record<string, (...a: unknown[]) => unknown>)[key]!(...args);
      };
    }
  }
  Object.setPrototypeOf(TrackedRoot.prototype, forwarding);
}

function safeMessageId(mail: OutgoingMail): string | undefined {
  try {
    return mail.message.messageId();
  } catch {
    return undefined;
  }
}
