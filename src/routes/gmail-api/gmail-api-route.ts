import type { SentMessageInfo } from 'nodemailer';
import { isGmailTransportError, type GmailTransportError } from '../../errors/error.js';
import { errorFor, mapError } from '../../errors/map-error.js';
import { classifyGmailApiError, parseRetryAfter, reasonsOf, type GoogleErrorBody } from '../../errors/map-http.js';
import type { Locale } from '../../errors/hints.js';
import type { AccessToken, AccessTokenSource } from '../../core/tokens.js';
import type { OutgoingMail, Route, SendCallback } from '../../core/route.js';
import { composeForGmail, type ComposedMessage } from './compose.js';
import { joinMailboxLimiter, type MailboxSlot } from './concurrency.js';
import { gmailFetch, type GmailRequest, type GmailResponse } from './http-client.js';
import { abortError, raceAbort, signalOf } from '../../delivery/abort.js';
import { noteSize } from '../../send-log/trace.js';

/** What the Gmail API route needs, resolved from the strategy's config. */
export interface GmailApiRouteOptions {
  /** The mailbox: the account of a refresh token, or the user a service account impersonates. */
  user: string;
  /** API base URL, e.g. `https://gmail.googleapis.com`. */
  apiBase: string;
  maxConcurrent: number;
  /** Largest message sent as JSON `{ raw }`; bigger ones go to the media upload endpoint. */
  jsonMaxBytes: number;
  /**
   * Whether the scopes in use may call `users.getProfile` (mail.google.com, gmail.modify,
   * gmail.compose, gmail.readonly or gmail.metadata; gmail.send may not).
   */
  canReadProfile: boolean;
}

/** Gmail's `Message` resource, as `users.messages.send` returns it. */
interface GmailMessageResource {
  id?: string;
  threadId?: string;
  labelIds?: string[];
}

const STRATEGY = 'gmail-api';

/**
 * Delivers through the Gmail REST API: `users.messages.send` with the message built by
 * nodemailer. One request per message; a 401 gets one token refresh and one resend (a 401 means
 * Gmail refused the request before reading it, so the resend cannot duplicate); retries of other
 * failures are a wrapper's (delivery/retry.ts), guided by `retryable` and `retryAfterMs`.
 */
export class GmailApiRoute implements Route {
  readonly strategy = STRATEGY;
  readonly user: string;
  readonly #options: GmailApiRouteOptions;
  readonly #tokens: AccessTokenSource;
  readonly #locale: Locale;
  #slot: MailboxSlot | undefined;
  #inFlight = 0;

  constructor(options: GmailApiRouteOptions, tokens: AccessTokenSource, locale: Locale) {
    this.#options = options;
    this.user = options.user;
    this.#tokens = tokens;
    this.#locale = locale;
  }

  send(mail: OutgoingMail, callback: SendCallback): void {
    this.#send(mail).then(
      (info) => callback(null, info),
      (err: unknown) => callback(isGmailTransportError(err) ? err : mapError(err, { strategy: STRATEGY, locale: this.#locale })),
    );
  }

  async #send(mail: OutgoingMail): Promise<SentMessageInfo> {
    const signal = signalOf(mail);
    this.#inFlight++;
    try {
      const composed = await composeForGmail(mail, { locale: this.#locale, strategy: STRATEGY });
      noteSize(mail, composed.raw.length);
      const cancel: Cancel | undefined = signal && {
        signal,
        error: () =>
          abortError(signal, { strategy: STRATEGY, locale: this.#locale, phase: 'api', ...(composed.messageId ? { messageId: composed.messageId } : {}) }),
      };
      if (cancel?.signal.aborted) throw cancel.error();
      const response = await this.#authorized((token) => this.#sendRequest(composed, token, signal), composed.messageId, cancel);
      const resource = (isObject(response.json) ? response.json : {}) as GmailMessageResource;
      return {
        messageId: composed.messageId ?? '',
        envelope: composed.envelope,
        // Gmail accepts the message for all its recipients at once; bounces come later by mail.
        accepted: [...composed.envelope.to],
        rejected: [],
        pending: [],
        response: `${response.status} Gmail API users.messages.send${resource.id ? ` id=${resource.id}` : ''}${resource.threadId ? ` threadId=${resource.threadId}` : ''}`,
        ...(resource.id ? { id: resource.id } : {}),
        ...(resource.threadId ? { threadId: resource.threadId } : {}),
        ...(resource.labelIds ? { labelIds: resource.labelIds } : {}),
      };
    } finally {
      this.#inFlight--;
    }
  }

  /**
   * Obtains a token and calls `users.getProfile` (1 quota unit). With the default scope,
   * gmail.send, which cannot read the profile, Google answers 403 insufficientPermissions: that
   * still proves the token is valid and the Gmail API is enabled for the project (a disabled API
   * and a bad token are reported before scopes), so it counts as success. With a scope that may read the profile, that answer is
   * a failure (the token lacks the scope configured). Only a real send proves the token may send.
   */
  async verify(): Promise<true> {
    const response = await this.#exchange((token) =>
      gmailFetch({ method: 'GET', url: `${this.#mailboxUrl('/gmail/v1')}/profile`, token: token.token }, this.#context()),
    );
    if (isSuccess(response)) return true;
    const scopeOnly = response.status === 403 && reasonsOf(asErrorBody(response.json)).includes('insufficientPermissions');
    if (scopeOnly && !this.#options.canReadProfile) return true;
    throw this.#httpError(response);
  }

  close(): void {
    this.#slot?.release();
    this.#slot = undefined;
  }

  isIdle(): boolean {
    return this.#inFlight === 0;
  }

  #sendRequest(composed: ComposedMessage, token: AccessToken, signal: AbortSignal | undefined): Promise<GmailResponse> {
    const context = this.#context(composed.messageId);
    if (composed.raw.length <= this.#options.jsonMaxBytes) {
      // The JSON form carries the message as base64url in `raw` (4/3 of its size, in memory).
      const body = Buffer.from(JSON.stringify({ raw: composed.raw.toString('base64url') }));
      return gmailFetch(
        {
          method: 'POST',
          url: `${this.#mailboxUrl('/gmail/v1')}/messages/send`,
          token: token.token,
          body: { bytes: body, contentType: 'application/json' },
          ...(signal ? { signal } : {}),
        },
        context,
      );
    }
    // Media upload: the message bytes as they are, no base64 inflation.
    // https://developers.google.com/workspace/gmail/api/guides/uploads
    const request: GmailRequest = {
      method: 'POST',
      url: `${this.#mailboxUrl('/upload/gmail/v1')}/messages/send?uploadType=media`,
      token: token.token,
      body: { bytes: composed.raw, contentType: 'message/rfc822' },
      ...(signal ? { signal } : {}),
    };
    return gmailFetch(request, context);
  }

  /**
   * Runs a request under the mailbox's in-flight cap with a valid token. A 401 drops the token,
   * fetches a new one (shared with every other caller) and tries exactly once more.
   */
  async #authorized(request: (token: AccessToken) => Promise<GmailResponse>, messageId?: string, cancel?: Cancel): Promise<GmailResponse> {
    const response = await this.#exchange(request, messageId, cancel);
    if (isSuccess(response)) return response;
    throw this.#httpError(response, messageId);
  }

  async #exchange(request: (token: AccessToken) => Promise<GmailResponse>, messageId?: string, cancel?: Cancel): Promise<GmailResponse> {
    // The token may be a shared refresh: an abort stops this send's wait, not the refresh.
    const token = (forceRefresh: boolean) => raceAbort(this.#token(forceRefresh, messageId), cancel?.signal, () => cancel!.error());
    const response = await this.#limited(request, await token(false), cancel);
    if (response.status !== 401) return response;
    return this.#limited(request, await token(true), cancel);
  }

  /**
   * Runs the request once the mailbox has a free slot. An abort while waiting for the slot
   * ends the wait at once (the queued task then finds the signal aborted and gives its turn
   * away); once the request runs, fetch's own abort decides, knowing how far the body got.
   */
  #limited(request: (token: AccessToken) => Promise<GmailResponse>, token: AccessToken, cancel?: Cancel): Promise<GmailResponse> {
    this.#slot ??= joinMailboxLimiter(`${this.#options.apiBase}\n${this.#options.user.toLowerCase()}`, this.#options.maxConcurrent);
    let started = false;
    const run = this.#slot.run(() => {
      if (cancel?.signal.aborted) return Promise.reject(cancel.error());
      started = true;
      return request(token);
    });
    return raceAbort(
      run,
      cancel?.signal,
      () => cancel!.error(),
      () => !started,
    );
  }

  async #token(forceRefresh: boolean, messageId?: string): Promise<AccessToken> {
    try {
      return await this.#tokens.getAccessToken(forceRefresh ? { forceRefresh: true } : undefined);
    } catch (err) {
      if (isGmailTransportError(err)) throw err;
      throw mapError(err, { strategy: STRATEGY, phase: 'token', locale: this.#locale, ...(messageId ? { messageId } : {}) });
    }
  }

  #httpError(response: GmailResponse, messageId?: string): GmailTransportError {
    const body = asErrorBody(response.json);
    const classified = classifyGmailApiError(response.status, body);
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), body);
    return errorFor(classified.code, {
      message: `Gmail API answered HTTP ${response.status}${classified.reason ? ` ${classified.reason}` : ''}${classified.message ? `: ${classified.message}` : ''}`,
      retryable: classified.retryable,
      strategy: STRATEGY,
      phase: 'api',
      locale: this.#locale,
      httpStatus: response.status,
      ...(classified.variant ? { variant: classified.variant } : {}),
      ...(classified.reason ? { reason: classified.reason } : {}),
      ...(classified.message ? { response: classified.message } : {}),
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      ...(messageId ? { messageId } : {}),
    });
  }

  #mailboxUrl(prefix: string): string {
    return `${this.#options.apiBase}${prefix}/users/${encodeURIComponent(this.#options.user)}`;
  }

  #context(messageId?: string): { strategy: string; locale: Locale; messageId?: string } {
    return { strategy: STRATEGY, locale: this.#locale, ...(messageId ? { messageId } : {}) };
  }
}

/** The caller's signal, with the ABORTED error this send reports when it fires early. */
interface Cancel {
  signal: AbortSignal;
  error: () => GmailTransportError;
}

function isSuccess(response: GmailResponse): boolean {
  return response.status >= 200 && response.status < 300;
}

function asErrorBody(json: unknown): GoogleErrorBody | undefined {
  return isObject(json) ? (json as GoogleErrorBody) : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
