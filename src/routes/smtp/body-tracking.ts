import type { MapErrorContext } from '../../errors/map-error.js';
import type { OutgoingMail } from '../../core/route.js';
import { envelopeForAttempt } from '../../core/envelope.js';

/**
 * How far one SMTP attempt got with a message: the fact the duplicate-safety promise rests on.
 * A connection lost before the final dot was handed to the socket cannot have delivered the
 * message (RFC 5321 §4.1.1.4: the server takes it on the final dot), so it is retryable; one lost
 * after may have, so it is DELIVERY_UNCERTAIN and never retried.
 *
 * nodemailer does not report this; it is read from how nodemailer's SMTP code (lib/smtp-transport,
 * lib/smtp-pool and lib/smtp-connection) behaves. Each behaviour relied on, with what would
 * break if it changed, is checked against the real SMTPTransport and SMTPPool by
 * test/routes/smtp/body-tracking.test.ts, and against the newest nodemailer by the CI step in
 * .ci/run (docs/decisions/0013-one-route-contract-one-clock.md):
 *
 * 1. SMTPTransport and SMTPPool read the MIME root off `mail.message` when they send it (a pool:
 *    when the message leaves its queue), not before `send` is called; so the tracking object
 *    put there for the attempt is what they use.
 * 2. They call the root's `getEnvelope()` once the session is past greeting, EHLO and AUTH, and
 *    `createReadStream()` for the body; `messageId()` and `getHeader()` are the other methods
 *    they call. Any other method of the root is forwarded to it.
 * 3. They pipe the body stream into the connection only after the server answered DATA with
 *    354, and nothing else resumes that stream: Node announces the pipe's flowing mode with a
 *    `'resume'` event on the next tick, before the first chunk moves.
 * 4. The pipe's destination is smtp-connection's DataStream, found in the body stream's
 *    `_readableState.pipes` (Node lists pipe destinations only there). It dot-stuffs the
 *    message, appends the final "\r\n.\r\n", and its readable side ends once that dot has been
 *    handed to the socket; its `inByteCount` is the message's size before dot-stuffing.
 *
 * Should 4 fail (no destination found), the body counts as wholly sent from the moment it
 * starts: a loss is then never retried (DELIVERY_UNCERTAIN) rather than risk a duplicate.
 * Should 1 or 3 fail, a loss after the dot would look like one before it; that is what the
 * canary test exists to catch.
 */

/** How far an attempt's body got. */
export type BodyState = NonNullable<MapErrorContext['body']>;

/** What one attempt showed about the message, read after it ends. */
export interface BodyProgress {
  readonly body: BodyState;
  /** The session got past greeting, EHLO and AUTH: nodemailer asked for the envelope. */
  readonly reachedEnvelope: boolean;
  /** The message content (and any stream in it) started to be read. */
  readonly contentRead: boolean;
  /** Bytes of the message, once its final dot was handed to the socket. */
  readonly size: number | undefined;
  /** Gives the mail its own MIME root back. */
  untrack(): void;
}

type MimeRoot = OutgoingMail['message'];
type BodyStream = ReturnType<MimeRoot['createReadStream']>;

/**
 * Puts a tracking object in place of the mail's MIME root for one attempt (behaviour 1) and
 * returns it; call `untrack()` when the attempt ends, before anything else reads the mail.
 */
export function trackBody(mail: OutgoingMail): BodyProgress {
  const tracked = new TrackedRoot(mail);
  mail.message = tracked as unknown as MimeRoot;
  return tracked;
}

/**
 * The MIME root as nodemailer's SMTP code sees it during one attempt. A plain object in front of
 * the root, not a Proxy and not an own property on nodemailer's objects: both cost measurably
 * more CPU per pooled send (docs/decisions/0001-body-tracking-without-proxies.md).
 */
class TrackedRoot implements BodyProgress {
  body: BodyState = 'not-sent';
  reachedEnvelope = false;
  contentRead = false;
  size: number | undefined;
  readonly root: MimeRoot;
  readonly #mail: OutgoingMail;

  constructor(mail: OutgoingMail) {
    this.#mail = mail;
    this.root = mail.message;
    const proto = Object.getPrototypeOf(this.root) as object | null;
    if (proto !== forwardedFrom) forwardTo(proto);
  }

  untrack(): void {
    this.#mail.message = this.root;
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
    // A listener on nodemailer's stream rather than a wrapper around it: the stream reaches the
    // connection as it is (behaviour 3).
    stream.on('resume', () => this.#piped(stream));
    return stream;
  }

  #piped(stream: BodyStream): void {
    if (this.body !== 'not-sent') return; // a resume after backpressure
    this.body = 'partial';
    // The message's own stream may end long before the dot: its content sits in buffers until
    // the socket drains, and a connection lost meanwhile never carried the dot (behaviour 4).
    const destination = pipeDestination(stream);
    if (!destination) {
      this.body = 'complete';
      return;
    }
    destination.on('end', () => {
      this.body = 'complete';
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
 * root (behaviour 2). Done once per process (the roots all share one class); own data
 * properties of a root are not forwarded, no SMTP transport of nodemailer's reads one.
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
