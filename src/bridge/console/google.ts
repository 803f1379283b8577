import { timingSafeEqual } from 'node:crypto';
import { checkAccount, completeConsent, DEFAULT_AUTH_ENDPOINT, DEFAULT_TOKEN_ENDPOINT } from '../../consent/consent.js';
import { consentUrl, createPkce, createState, listenOnLoopback, type ConsentOutcome, type LoopbackListener } from '../../consent/loopback.js';
import { Secret } from '../../core/secret.js';
import type { ConsoleHost } from './context.js';
import { writeSecretFile } from '../../consent/client-file.js';
import { createTokenCodec } from '../../tokens/crypto.js';
import { SEAL_CONTEXT } from './kept-token.js';
import { t, type MessageKey } from './i18n.js';
import { hintFor, LOCALES, type Locale } from '../../errors/hints.js';
import { ERROR_CODES, type ErrorCode } from '../../errors/error.js';
import type { Diagnosis } from '../../errors/diagnosis.js';

/** How long a started consent waits for Google's answer. */
export const CONSENT_TIMEOUT_MS = 10 * 60_000;

/** Where a Connect Google stands, as the page shows it. Never a code or a token. */
export type ConnectState =
  | { kind: 'idle' }
  | { kind: 'waiting'; url: string; redirectUri: string; startedAt: number }
  | { kind: 'connected'; account: string; at: number }
  | { kind: 'failed'; code: string; message: Record<Locale, string>; hint: Partial<Record<Locale, string>>; at: number };

interface Pending {
  state: string;
  verifier: Secret;
  listener: LoopbackListener;
  url: string;
  redirectUri: string;
  startedAt: number;
  settled: boolean;
  /** The language of the admin who started it: the page Google's redirect lands on speaks it. */
  locale: Locale;
}

/**
 * Google's consent flow from the console, for an oauth2 upstream: the same loopback redirect,
 * PKCE, code exchange and account check as `gmail-transport auth`. When the browser runs on the
 * bridge machine, Google's redirect reaches the listener here; when it runs on another PC, the
 * redirect lands on that PC's own 127.0.0.1 and fails to load, and the admin pastes the address
 * bar back ({@link paste}). The refresh token is kept in `admin.refreshTokenFile` (0600, sealed
 * with the upstream's `tokenEncryptionKey` when it has one) and swapped into the running
 * upstream. One flow at a time: a new start replaces the one waiting.
 */
export class GoogleConnect {
  #pending?: Pending;
  #state: ConnectState = { kind: 'idle' };
  readonly #host: ConsoleHost;
  readonly #endpoints: { auth: string; token: string };

  constructor(host: ConsoleHost) {
    this.#host = host;
    const upstream = host.config.upstream as { endpoints?: { token?: string } };
    this.#endpoints = { auth: DEFAULT_AUTH_ENDPOINT, token: upstream.endpoints?.token ?? DEFAULT_TOKEN_ENDPOINT };
  }

  get state(): ConnectState {
    return this.#state;
  }

  async start(locale: Locale): Promise<ConnectState> {
    await this.#cancel();
    const upstream = this.#host.config.upstream as { clientId: string; user?: string };
    const pkce = createPkce();
    const state = createState();
    const listener = await listenOnLoopback({ port: 0, state, onRefused: () => undefined });
    const url = consentUrl({
      authEndpoint: this.#endpoints.auth,
      clientId: upstream.clientId,
      redirectUri: listener.redirectUri,
      state,
      challenge: pkce.challenge,
      ...(upstream.user ? { loginHint: upstream.user } : {}),
    });
    const pending: Pending = {
      state,
      verifier: new Secret(pkce.verifier),
      listener,
      url,
      redirectUri: listener.redirectUri,
      startedAt: Date.now(),
      locale,
      settled: false,
    };
    this.#pending = pending;
    this.#state = { kind: 'waiting', url, redirectUri: listener.redirectUri, startedAt: pending.startedAt };
    void listener.waitForConsent(CONSENT_TIMEOUT_MS).then((outcome) => this.#settle(pending, outcome, true));
    return this.#state;
  }

  /**
   * The address Google's redirect showed in the browser's address bar, pasted back. Refused
   * without a flow waiting, or when its state is not the flow's (RFC 6749 §10.12).
   */
  async paste(address: string): Promise<ConnectState | 'no-flow' | 'not-ours'> {
    const pending = this.#pending;
    if (!pending || pending.settled) return 'no-flow';
    let url: URL;
    try {
      url = new URL(address.trim());
    } catch {
      return 'not-ours';
    }
    const expected = Buffer.from(pending.state);
    const given = Buffer.from(url.searchParams.get('state') ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'not-ours';
    const code = url.searchParams.get('code');
    const error = url.searchParams.get('error');
    if (!code && !error) return 'not-ours';
    await this.#settle(pending, code ? { kind: 'code', code } : { kind: 'error', error: error! }, false);
    return this.#state;
  }

  async close(): Promise<void> {
    await this.#cancel();
  }

  async #cancel(): Promise<void> {
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending && !pending.settled) {
      pending.settled = true;
      await pending.listener.close();
    }
  }

  async #settle(pending: Pending, outcome: ConsentOutcome, viaListener: boolean): Promise<void> {
    if (pending.settled || this.#pending !== pending) return;
    pending.settled = true;
    const host = this.#host;
    const upstream = host.config.upstream as { clientId: string; clientSecret: string; user?: string };
    const done = (state: ConnectState, page: { status: number; title: string; text: string }) => {
      this.#state = state;
      if (viaListener) pending.listener.finish(page);
    };
    try {
      const result = await completeConsent(outcome, {
        client: { kind: 'installed', clientId: upstream.clientId, clientSecret: new Secret(upstream.clientSecret) },
        pkce: pending.verifier,
        redirectUri: pending.redirectUri,
        tokenEndpoint: this.#endpoints.token,
      });
      const l = pending.locale;
      if ('code' in result) return done(failed(result), { status: 400, title: t(l, 'google.done.failed'), text: t(l, 'google.done.seeConsole') });
      const account = await checkAccount(result.accessToken, upstream.user);
      if ('code' in account) return done(failed(account), { status: 400, title: t(l, 'google.done.refused'), text: t(l, 'google.done.seeConsole') });
      await keepToken(host.config.admin.refreshTokenFile!, result.refreshToken, host.config.admin.sealKey);
      host.replaceRefreshToken(result.refreshToken);
      const who = account.address ?? upstream.user ?? '';
      host.logger?.info?.({ event: 'admin-google-connected', account: who }, 'gmail-transport bridge: a new refresh token from the console is in use');
      done(
        { kind: 'connected', account: who, at: Date.now() },
        { status: 200, title: t(pending.locale, 'google.done.granted'), text: t(pending.locale, 'google.done.grantedText') },
      );
    } catch (err) {
      done(
        {
          kind: 'failed',
          code: (err as { code?: string }).code ?? 'UNKNOWN',
          message: { en: t('en', 'google.keepFailed'), ja: t('ja', 'google.keepFailed') },
          hint: { en: t('en', 'google.keepFailedHint'), ja: t('ja', 'google.keepFailedHint') },
          at: Date.now(),
        },
        { status: 500, title: t(pending.locale, 'google.done.error'), text: t(pending.locale, 'google.done.seeConsole') },
      );
    } finally {
      await pending.listener.close();
      if (this.#pending === pending) this.#pending = undefined;
    }
  }
}

/** The console's own advice for the consent's outcomes (the CLI's speaks of flags and commands). */
const CONSOLE_HINTS: Partial<Record<string, MessageKey>> = {
  CONSENT_TIMEOUT: 'google.hint.timeout',
  NO_REFRESH_TOKEN: 'google.hint.noRefreshToken',
  ACCOUNT_UNCONFIRMED: 'google.hint.unconfirmed',
  ACCOUNT_MISMATCH: 'google.hint.mismatch',
};

/** A failed consent as the page shows it, its hint in each language the console speaks. */
function failed(d: Diagnosis): ConnectState {
  const own = CONSOLE_HINTS[d.code];
  const library = (ERROR_CODES as readonly string[]).includes(d.code) ? (d.code as ErrorCode) : undefined;
  const hint: Partial<Record<Locale, string>> = {};
  for (const locale of LOCALES) {
    // A library error's own hint in English (it may name a variant); its code's hint otherwise.
    const text = own ? t(locale, own) : locale === 'en' ? d.hint : library ? hintFor(library, locale) : undefined;
    if (text) hint[locale] = text;
  }
  return { kind: 'failed', code: d.code, message: { en: d.message, ja: d.message }, hint, at: Date.now() };
}

/** Writes the refresh token with mode 0600, sealed with AES-256-GCM when `key` is set (read back by readKeptToken). */
async function keepToken(file: string, token: string, key: Secret | undefined): Promise<void> {
  const content = key ? createTokenCodec(key).encode({ token, expiresAt: 0 }, SEAL_CONTEXT) : token;
  await writeSecretFile(file, `${content}\n`);
}
