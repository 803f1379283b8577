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
import { trackBody, type BodyProgress } from './body-tracking.js';

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
        provisionCallback(
          this: { accessToken?: unknown } | undefined,
          _user: string,
          renew: boolean,
          callback: (err: Error | null, token?: string, expires?: number) => void,
        ) {
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
    // Given back (`untrack`) before anything else sees the mail: our error mapping, a retry,
    // the next route of a failover.
    const progress = trackBody(mail);
    let called = false;
    try {
      this.#inner.send(mail, (err, info) => {
        // Once, whatever nodemailer does: a second failure would start a second retry loop,
        // and the message could go out twice (a promise settled once did this before).
        if (called) return;
        called = true;
        progress.untrack();
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
      progress.untrack();
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

  #map(err: unknown, progress: Pick<BodyProgress, 'body' | 'reachedEnvelope'>, mail?: OutgoingMail): GmailTransportError {
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

function safeMessageId(mail: OutgoingMail): string | undefined {
  try {
    return mail.message.messageId();
  } catch {
    return undefined;
  }
}
