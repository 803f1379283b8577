import { createTransport, type SentMessageInfo } from 'nodemailer';
import type { Readable } from 'node:stream';
import type { ResolvedConfig, SmtpPlan, StrategyContext } from '../strategies/types.js';
import { mapError, carryError, type MapErrorContext } from '../errors/map-error.js';
import { signalOf } from './abort.js';
import type { GmailTransportError } from '../errors.js';
import type { OutgoingMail, Route } from './route.js';
import { Secret } from './secret.js';
import { noteContentUnread } from './retry.js';

type BodyProgress = NonNullable<MapErrorContext['body']>;

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
  readonly #inner: InnerTransport;
  readonly #errorContext: MapErrorContext;

  constructor(plan: SmtpPlan, config: ResolvedConfig, ctx: StrategyContext) {
    this.strategy = config.strategy;
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
      ...(endpoint.greetingTimeoutMs ? { greetingTimeout: endpoint.greetingTimeoutMs } : {}),
      ...(endpoint.socketTimeoutMs ? { socketTimeout: endpoint.socketTimeoutMs } : {}),
      logger: false,
    };
    if (!endpoint.requireTLS && !endpoint.secure) {
      // Opt-in cleartext (a local test server): still upgrade when STARTTLS is offered.
      options.opportunisticTLS = true;
    }
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

  deliver(mail: OutgoingMail, callback: (err: GmailTransportError | null, info?: SentMessageInfo) => void): void {
    const progress = new BodyTracker(mail);
    let called = false;
    try {
      this.#inner.send(progress.mail, (err, info) => {
        // Once, whatever nodemailer does: a second failure would start a second retry loop,
        // and the message could go out twice (a promise settled once did this before).
        if (called) return;
        called = true;
        if (err) {
          if (!progress.contentRead) noteContentUnread(mail);
          callback(this.#map(err, progress, mail));
          return;
        }
        callback(null, info);
      });
    } catch (err) {
      // A throw out of our own callback belongs to the code it ran (the caller's): pass it on.
      if (called) throw err;
      // nodemailer reports failures through the callback; a throw before it is a bug of its or
      // ours, still an error of this send.
      callback(this.#map(err, progress, mail));
    }
  }

  send(mail: OutgoingMail): Promise<SentMessageInfo> {
    return new Promise((resolve, reject) => {
      this.deliver(mail, (err, info) => (err ? reject(err) : resolve(info as SentMessageInfo)));
    });
  }

  async verify(): Promise<true> {
    try {
      return await this.#inner.verify();
    } catch (err) {
      throw this.#map(err, { body: 'not-sent', reachedEnvelope: false });
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

  #map(err: unknown, progress: Pick<BodyTracker, 'body' | 'reachedEnvelope'>, mail?: OutgoingMail): GmailTransportError {
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

/**
 * Follows how far this attempt got, by watching the calls nodemailer makes on the message
 * (smtp-transport and smtp-pool both call `getEnvelope()` once logged in, then
 * `createReadStream()`). nodemailer pipes the message stream only after the server answered
 * DATA with 354, so `pipe` marks the body as partly sent, and the end of the stream it is
 * piped into (the final dot handed to the socket) as wholly sent. A dot handed to the socket
 * may or may not have arrived, so a loss after that is DELIVERY_UNCERTAIN; before it, the
 * server cannot have taken the message (RFC 5321 §4.1.1.4: it takes it on the final dot).
 *
 * Nothing of nodemailer's gets an own property: Proxies intercept the three calls, and every
 * other property is read from the real object, methods bound to it. Own properties set on
 * every MIME root cost 10-20% more CPU per message than plain nodemailer; a `pipe` closure
 * stored on every message stream doubled the time of young-generation GCs. Both made V8
 * reshape objects it sees by the thousand (docs/BENCHMARKS.md, "Findings").
 *
 * The tracker is itself the handler of the Proxy around the mail, and the Proxy around its
 * MIME root is made when nodemailer first reads `message`, once the message leaves the pool's
 * queue: a pooled message waits in that queue with what its send allocated, so it waits with
 * two objects, not nine.
 */
class BodyTracker implements ProxyHandler<OutgoingMail> {
  body: BodyProgress = 'not-sent';
  /** The session got past greeting, EHLO and AUTH: nodemailer asked for the envelope. */
  reachedEnvelope = false;
  /** The message content (and any stream in it) started to be read. */
  contentRead = false;
  /** What the inner transport is given: the message seen through the tracker. */
  readonly mail: OutgoingMail;
  #message: unknown;

  constructor(mail: OutgoingMail) {
    this.mail = new Proxy(mail, this);
  }

  get(target: OutgoingMail, key: string | symbol): unknown {
    if (key !== 'message') return bound(target, key);
    this.#message ??= new Proxy(target.message, new MessageHandler(this));
    return this.#message;
  }
}

type MimeRoot = OutgoingMail['message'];

/** The MIME root seen through a tracker: `getEnvelope` and `createReadStream` report to it. */
class MessageHandler implements ProxyHandler<MimeRoot> {
  readonly #tracker: BodyTracker;

  constructor(tracker: BodyTracker) {
    this.#tracker = tracker;
  }

  get(target: MimeRoot, key: string | symbol): unknown {
    if (key === 'getEnvelope') return this.#getEnvelope(target);
    if (key === 'createReadStream') return this.#createReadStream(target);
    return bound(target, key);
  }

  #getEnvelope(node: MimeRoot): MimeRoot['getEnvelope'] {
    return () => {
      this.#tracker.reachedEnvelope = true;
      return node.getEnvelope();
    };
  }

  #createReadStream(node: MimeRoot): MimeRoot['createReadStream'] {
    const tracker = this.#tracker;
    return (opts) => {
      tracker.contentRead = true;
      const stream = node.createReadStream(opts);
      const pipe = <T extends NodeJS.WritableStream>(destination: T, pipeOpts?: { end?: boolean }): T => {
        tracker.body = 'partial';
        // The destination is nodemailer's DataStream, which dot-stuffs the message and appends
        // the final "\r\n.\r\n"; its readable side ends once that dot has been handed to the
        // socket. The message's own stream may end much earlier: its content sits in buffers
        // until the socket drains, and a connection lost meanwhile never carried the dot.
        (destination as unknown as NodeJS.EventEmitter).once('end', () => {
          tracker.body = 'complete';
        });
        return stream.pipe(destination, pipeOpts);
      };
      return new Proxy(stream, { get: (target, key) => (key === 'pipe' ? pipe : bound(target, key)) });
    };
  }
}

function bound(target: object, key: string | symbol): unknown {
  const value: unknown = Reflect.get(target, key);
  return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
}

function safeMessageId(mail: OutgoingMail): string | undefined {
  try {
    return mail.message.messageId();
  } catch {
    return undefined;
  }
}
