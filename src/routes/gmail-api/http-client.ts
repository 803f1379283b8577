import type { GmailTransportError } from '../../errors/error.js';
import { errorFor } from '../../errors/map-error.js';
import type { Locale } from '../../errors/hints.js';
import type { Secret } from '../../core/secret.js';
import { VERSION } from '../../core/version.js';
import { abortError } from '../../delivery/abort.js';

/** One request to the Gmail API. */
export interface GmailRequest {
  method: 'GET' | 'POST';
  url: string;
  token: Secret;
  body?: { bytes: Buffer; contentType: string };
  /** `sendMail({ signal })`: aborts the request; once the body was wholly sent, uncertain. */
  signal?: AbortSignal;
}

/** A response that arrived, whatever its status. */
export interface GmailResponse {
  status: number;
  headers: Headers;
  /** The parsed JSON body; `undefined` when it was not JSON or could not be read. */
  json: unknown;
}

interface ClientContext {
  strategy: string;
  locale: Locale;
  messageId?: string;
}

type BodyProgress = 'not-sent' | 'partial' | 'complete';

/** Bytes handed to fetch per read; small enough that progress means something. */
const CHUNK_BYTES = 64 * 1024;

const TLS_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);

/** Failures of establishing the connection: nothing of the request reached the server. */
const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * Sends one request with Node's fetch (undici). The body goes as a stream we feed, so we know
 * how far it got when the connection fails: before the last byte was handed over, Gmail cannot
 * have accepted the message (CONNECTION_FAILED, retryable); after it, Gmail may have sent it and
 * only the reply was lost (DELIVERY_UNCERTAIN, never retried), the same rule as over SMTP.
 *
 * @throws GmailTransportError CONNECTION_FAILED, TLS_FAILED or DELIVERY_UNCERTAIN; an HTTP error
 * status is not thrown but returned.
 */
export async function gmailFetch(request: GmailRequest, ctx: ClientContext): Promise<GmailResponse> {
  const progress: { body: BodyProgress } = { body: request.body ? 'not-sent' : 'complete' };
  const headers: Record<string, string> = {
    authorization: `Bearer ${request.token.reveal()}`,
    'user-agent': `gmail-transport/${VERSION}`,
    accept: 'application/json',
  };
  const init: RequestInit & { duplex?: 'half' } = {
    method: request.method,
    headers,
    // A redirect would carry the message (and, same-origin, the token) somewhere we did not
    // configure; Google's API does not redirect, so one is reported as an HTTP failure.
    redirect: 'manual',
  };
  // fetch gets a signal of its own, which follows the caller's only while this request runs:
  // undici keeps a listener on the signal it is given until the request object is garbage
  // collected, so one signal reused across many sends would collect listeners between GCs (and,
  // past undici's own raised limit, a MaxListenersExceededWarning).
  const caller = request.signal;
  const local = caller ? new AbortController() : undefined;
  const forwardAbort = (): void => local!.abort(caller!.reason);
  if (caller && local) {
    if (caller.aborted) local.abort(caller.reason);
    else caller.addEventListener('abort', forwardAbort, { once: true });
    init.signal = local.signal;
  }
  if (request.body) {
    headers['content-type'] = request.body.contentType;
    headers['content-length'] = String(request.body.bytes.length);
    init.body = trackedBody(request.body.bytes, progress);
    init.duplex = 'half';
  }
  try {
    let response: Response;
    try {
      response = await fetch(request.url, init);
    } catch (err) {
      if (caller?.aborted) {
        throw abortError(caller, {
          strategy: ctx.strategy,
          locale: ctx.locale,
          phase: 'api',
          body: progress.body,
          ...(ctx.messageId ? { messageId: ctx.messageId } : {}),
        });
      }
      throw networkError(err, progress.body, ctx);
    }
    let json: unknown;
    try {
      const text = await response.text();
      json = text ? JSON.parse(text) : undefined;
    } catch {
      // The status already tells what happened; a body lost or garbled after it changes nothing.
      json = undefined;
    }
    return { status: response.status, headers: response.headers, json };
  } finally {
    caller?.removeEventListener('abort', forwardAbort);
  }
}

function trackedBody(bytes: Buffer, progress: { body: BodyProgress }): ReadableStream<Uint8Array> {
  let offset = 0;
  // highWaterMark 0: a chunk is produced only when fetch asks for one, never read ahead into a
  // queue, so "asked for the chunk after the last" means the last one was taken and written.
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (offset >= bytes.length) {
          // fetch asks for more only after it took the last chunk: the whole body is handed over.
          progress.body = 'complete';
          controller.close();
          return;
        }
        const end = Math.min(offset + CHUNK_BYTES, bytes.length);
        controller.enqueue(bytes.subarray(offset, end));
        offset = end;
        progress.body = 'partial';
      },
    },
    { highWaterMark: 0 },
  );
}

function networkError(err: unknown, body: BodyProgress, ctx: ClientContext): GmailTransportError {
  const code = networkCode(err);
  const common = {
    strategy: ctx.strategy,
    locale: ctx.locale,
    cause: err,
    ...(ctx.messageId ? { messageId: ctx.messageId } : {}),
  };
  if (code && TLS_CODES.has(code)) {
    return errorFor('TLS_FAILED', { ...common, phase: 'tls', message: `The TLS connection to the Gmail API failed (${code})` });
  }
  if (body === 'complete') {
    return errorFor('DELIVERY_UNCERTAIN', {
      ...common,
      phase: 'api',
      message: `The connection to the Gmail API was lost after the message was sent, before Gmail answered${code ? ` (${code})` : ''}; delivery is uncertain`,
    });
  }
  return errorFor('CONNECTION_FAILED', {
    ...common,
    retryable: true,
    phase: body === 'not-sent' || (code !== undefined && CONNECT_CODES.has(code)) ? 'connect' : 'api',
    message: `Could not reach the Gmail API${code ? ` (${code})` : ''}; the message was not sent`,
  });
}

/** The error code undici puts on the `cause` of its "fetch failed" TypeError. */
export function networkCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
