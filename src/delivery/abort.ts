import type { GmailTransportError, ErrorPhase } from '../errors/error.js';
import { errorFor } from '../errors/map-error.js';
import type { Locale } from '../errors/hints.js';
import type { OutgoingMail } from '../core/route.js';

/**
 * The AbortSignal given to `sendMail({ signal })`, if any. nodemailer has already refused a
 * `signal` that is not one (ECONFIG) and accepts signals of another realm by their shape.
 */
export function signalOf(mail: OutgoingMail): AbortSignal | undefined {
  const signal = (mail.data as { signal?: unknown }).signal;
  return typeof signal === 'object' && signal !== null && 'aborted' in signal && typeof (signal as AbortSignal).addEventListener === 'function'
    ? (signal as AbortSignal)
    : undefined;
}

export interface AbortContext {
  strategy: string;
  locale?: Locale;
  messageId?: string;
  phase?: ErrorPhase;
  /** How far the message got: once it was wholly handed over, the server may have taken it. */
  body?: 'not-sent' | 'partial' | 'complete';
}

/**
 * The error of a send its signal aborted: ABORTED, or DELIVERY_UNCERTAIN when the whole
 * message had already been handed to the server (aborting cannot take it back). `cause` is the
 * signal's reason, as nodemailer's own AbortError carries it.
 */
export function abortError(signal: AbortSignal, context: AbortContext): GmailTransportError {
  const common = {
    strategy: context.strategy,
    ...(context.locale ? { locale: context.locale } : {}),
    ...(context.messageId ? { messageId: context.messageId } : {}),
    cause: signal.reason,
  };
  if (context.body === 'complete') {
    return errorFor('DELIVERY_UNCERTAIN', {
      ...common,
      variant: 'aborted',
      phase: context.phase ?? 'data',
      message: `The send was aborted after the whole message was handed to the server, before it confirmed; delivery is uncertain${context.messageId ? ` (Message-ID ${context.messageId})` : ''}`,
    });
  }
  return errorFor('ABORTED', {
    ...common,
    ...(context.phase ? { phase: context.phase } : {}),
    message: `The send was aborted by its AbortSignal${reasonName(signal.reason)}`,
  });
}

/** ` (TimeoutError)`: the kind of reason, never its text (the caller's, which we do not log). */
function reasonName(reason: unknown): string {
  const name = typeof reason === 'object' && reason !== null ? (reason as { name?: unknown }).name : undefined;
  return typeof name === 'string' && /^[A-Za-z]\w{0,40}$/.test(name) ? ` (${name})` : '';
}

/**
 * Settles with `promise`, or rejects with `onAbort()` as soon as `signal` aborts, whichever
 * comes first. The listener is removed when the promise settles; the work behind the promise
 * is not stopped (it is shared, a token refresh, or stops by itself). With `waiting`, an abort
 * counts only while it returns true: past that point the work answers the abort itself.
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined, onAbort: () => Error, waiting: () => boolean = () => true): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted && waiting()) {
    promise.catch(() => undefined);
    return Promise.reject(onAbort());
  }
  return new Promise<T>((resolve, reject) => {
    const abort = (): void => {
      if (waiting()) reject(onAbort());
    };
    signal.addEventListener('abort', abort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(err);
      },
    );
  });
}
