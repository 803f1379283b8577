import { EventEmitter } from 'node:events';
import type { SentMessageInfo, Transport, Mail } from 'nodemailer';
import type { ResolvedConfig } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { TransportEvents } from '../core/events.js';
import { mapError } from '../errors/map-error.js';
import { abortError, signalOf } from '../delivery/abort.js';
import { checkMessage, loadMessageCheck, messageCheckReady } from '../delivery/message-check.js';
import type { OutgoingMail, Route } from '../core/route.js';
import { VERSION } from '../core/version.js';
import { createSendLogWriter, type SendLogWriter } from '../send-log/writer.js';
import { factsOfMail } from '../send-log/record.js';
import { closeTrace, openTrace } from '../send-log/trace.js';

type ResultCallback = (err: Error | null, info?: SentMessageInfo) => void;

/**
 * The nodemailer transport object behind every transporter we return: nodemailer's `Mail`
 * composes the message and runs plugins, we deliver it through the strategy's route.
 */
export class ManagedTransport extends EventEmitter implements Transport<SentMessageInfo> {
  readonly name = 'gmail-transport';
  readonly version = VERSION;
  /**
   * nodemailer hands `sendMail({ signal })` over to us once the message is composed: an abort
   * then removes a queued message, closes the connection delivering it, or ends a retry's wait
   * (ABORTED; DELIVERY_UNCERTAIN once the whole message was handed over).
   */
  readonly supportsAbortSignal = true;
  mailer?: Mail<SentMessageInfo>;
  readonly #config: ResolvedConfig;
  #route?: Route;
  /** Where each send's record goes, with the `sendLog` option; sendMail writes it (see transport/create.ts). */
  readonly sendLog: SendLogWriter | undefined;
  /**
   * sendMail calls whose outcome has not reached the send log yet (transport/create.ts counts
   * them). While there are none, a record has nobody to share its write with, and goes at once.
   */
  unrecordedSends = 0;

  constructor(config: ResolvedConfig) {
    super();
    this.#config = config;
    this.sendLog =
      config.sendLog &&
      createSendLogWriter(config.sendLog, (code, message) => this.publish('warning', { code, message, strategy: config.strategy }), {
        moreComing: () => this.unrecordedSends > 0,
      });
  }

  /** Set once, right after construction: the route's events need this transport to exist first. */
  attach(route: Route): void {
    this.#route = route;
    route.onIdle?.(() => this.emit('idle'));
  }

  get route(): Route {
    if (!this.#route) throw new Error('gmail-transport: route not attached');
    return this.#route;
  }

  send(mail: OutgoingMail, callback: ResultCallback): void {
    const log = this.sendLog;
    if (log) {
      // The message's facts are read once it is settled: a pooled message waits in the queue
      // with as little as possible (see Route in core/route.ts).
      openTrace(mail, { attempts: 0 });
      const settle = callback;
      callback = (err, info) => {
        const trace = closeTrace(mail, err ?? info);
        if (trace) trace.facts = factsOfMail(mail, log.privacy, err ?? info);
        settle(err, info);
      };
    }
    const signal = signalOf(mail);
    if (signal?.aborted) {
      // nodemailer checks before calling us; a signal aborted in between is still honoured.
      const err = abortError(signal, { strategy: this.#config.strategy, locale: this.#config.locale });
      setImmediate(() => callback(err));
      return;
    }
    const route = this.route;
    if (!messageCheckReady()) {
      void loadMessageCheck().then(() => this.send(mail, callback));
      return;
    }
    // Before any connection: a message nodemailer would send without its unparsable recipients.
    const invalid = checkMessage(mail, { maxRecipients: route.maxRecipients, strategy: this.#config.strategy, locale: this.#config.locale });
    if (invalid) {
      setImmediate(() => callback(invalid));
      return;
    }
    route.send(mail, callback);
  }

  verify(callback?: (err: Error | null, success?: true) => void): Promise<true> | undefined {
    const promise = this.route.verify().catch((err: unknown) => {
      throw mapError(err, { strategy: this.#config.strategy, locale: this.#config.locale });
    });
    if (!callback) return promise;
    promise.then(
      (ok) => callback(null, ok),
      (err: Error) => callback(err),
    );
    return undefined;
  }

  close(): void {
    this.#route?.close();
    // Records of sends still in flight are written after this; the file opens again for them.
    void this.sendLog?.close();
  }

  isIdle(): boolean {
    return this.#route?.isIdle?.() ?? true;
  }

  /**
   * Emits a documented event on the transporter and mirrors it to `logger`: the configured one,
   * or a failover route's own for the events of that route.
   */
  publish<K extends keyof TransportEvents>(event: K, payload: TransportEvents[K], logger: Logger | undefined = this.#config.logger): void {
    if (logger) {
      const line = { event, ...payload } as Record<string, unknown>;
      if (event === 'warning') logger.warn?.(line, `gmail-transport: ${(payload as TransportEvents['warning']).message}`);
      else if (event === 'token') logger.debug?.(line, 'gmail-transport: access token obtained');
      else logger.info?.(line, `gmail-transport: ${event}`);
    }
    this.mailer?.emit(event, payload);
  }
}
