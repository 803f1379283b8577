import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The scope that lets SMTP log in with XOAUTH2 (https://developers.google.com/gmail/imap/xoauth2-protocol). */
export const GMAIL_SCOPE = 'https://mail.google.com/';

/** A PKCE pair (RFC 7636): the verifier stays here, its S256 challenge goes in the consent URL. */
export interface Pkce {
  verifier: string;
  challenge: string;
}

/** 32 random bytes in base64url: 43 characters of the unreserved set, RFC 7636 §4.1. */
export function createPkce(): Pkce {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** An unguessable `state`, checked on return against cross-site request forgery (RFC 6749 §10.12). */
export function createState(): string {
  return randomBytes(24).toString('base64url');
}

/** The consent URL of Google's installed-app flow with a loopback redirect. */
export function consentUrl(opts: {
  authEndpoint: string;
  clientId: string;
  redirectUri: string;
  state: string;
  challenge: string;
  loginHint?: string;
}): string {
  const url = new URL(opts.authEndpoint);
  const params: Record<string, string> = {
    client_id: opts.clientId,
    redirect_uri: opts.redirectUri,
    response_type: 'code',
    scope: GMAIL_SCOPE,
    // offline + consent: Google returns a refresh token only then, and only on a fresh consent
    // (https://developers.google.com/identity/protocols/oauth2/native-app#step-2:-send-a-request-to-googles-oauth-2.0-server).
    access_type: 'offline',
    prompt: 'consent',
    state: opts.state,
    code_challenge: opts.challenge,
    code_challenge_method: 'S256',
    ...(opts.loginHint ? { login_hint: opts.loginHint } : {}),
  };
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url.toString();
}

/** What came back to the redirect URI with the right state. */
export type ConsentOutcome = { kind: 'code'; code: string } | { kind: 'error'; error: string } | { kind: 'timeout' };

/** A page for the browser tab; it never echoes the code or anything from the query. */
export interface ResultPage {
  status: number;
  title: string;
  text: string;
}

export interface LoopbackListener {
  /** `http://127.0.0.1:PORT/`, the redirect URI to send in the consent URL and the token request. */
  readonly redirectUri: string;
  /**
   * Resolves with the first redirect that carries our state (or the timeout). Requests with a
   * wrong or missing state are refused with an error page and reported to `onRefused`, and the
   * wait goes on: a stale tab or a stray request must not end the flow, and must not be taken
   * for the answer either.
   */
  waitForConsent(timeoutMs: number): Promise<ConsentOutcome>;
  /** Answers the browser tab of the accepted redirect, once the exchange is done. */
  finish(page: ResultPage): void;
  close(): Promise<void>;
}

/**
 * Listens on 127.0.0.1 for Google's redirect. Google lets Desktop clients redirect to any port
 * of the loopback address (https://developers.google.com/identity/protocols/oauth2/native-app#redirect-uri_loopback);
 * 127.0.0.1 rather than `localhost`, which may resolve to ::1 or be firewalled differently.
 */
export async function listenOnLoopback(opts: { port: number; state: string; onRefused: (reason: string) => void }): Promise<LoopbackListener> {
  const expectedState = Buffer.from(opts.state);
  let settle: ((outcome: ConsentOutcome) => void) | undefined;
  // The browser may be quicker than the caller: keep an answer that arrives before the wait.
  let early: ConsentOutcome | undefined;
  let accepted: ServerResponse | undefined;
  let done = false;

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    // Anything on this machine can send a request line that is no URL (`GET //[`): a throw
    // here would be an uncaught exception in the process waiting (the bridge's, for Connect Google).
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://127.0.0.1');
    } catch {
      respond(res, { status: 400, title: 'Bad request', text: 'This address is not one Google redirects to.' });
      return;
    }
    if (req.method !== 'GET' || url.pathname !== '/') {
      respond(res, { status: 404, title: 'Not found', text: 'Nothing here.' });
      return;
    }
    if (done) {
      respond(res, { status: 409, title: 'Already done', text: 'This sign-in was already handled. Return to the terminal.' });
      return;
    }
    const state = Buffer.from(url.searchParams.get('state') ?? '');
    if (state.length !== expectedState.length || !timingSafeEqual(state, expectedState)) {
      opts.onRefused(url.searchParams.has('state') ? 'wrong state' : 'no state');
      respond(res, {
        status: 400,
        title: 'Sign-in refused',
        text: 'This response does not belong to the running "gmail-transport auth" command (its state does not match), so it was ignored. Use the link printed in the terminal.',
      });
      return;
    }
    const code = url.searchParams.get('code');
    const error = url.searchParams.get('error');
    if (!code && !error) {
      opts.onRefused('no code');
      respond(res, { status: 400, title: 'Sign-in incomplete', text: 'Google sent no authorization code. Use the link printed in the terminal.' });
      return;
    }
    done = true;
    accepted = res;
    const outcome: ConsentOutcome = code ? { kind: 'code', code } : { kind: 'error', error: error! };
    if (settle) settle(outcome);
    else early = outcome;
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    redirectUri: `http://127.0.0.1:${port}/`,
    waitForConsent(timeoutMs) {
      if (early) return Promise.resolve(early);
      return new Promise<ConsentOutcome>((resolve) => {
        const timer = setTimeout(() => {
          done = true;
          resolve({ kind: 'timeout' });
        }, timeoutMs);
        settle = (outcome) => {
          clearTimeout(timer);
          resolve(outcome);
        };
      });
    },
    finish(page) {
      if (accepted) respond(accepted, page);
      accepted = undefined;
    },
    close() {
      if (accepted) respond(accepted, { status: 500, title: 'Stopped', text: 'The command stopped. See the terminal.' });
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        // A browser keeps its connection alive; without this, close() would wait for it.
        server.closeAllConnections();
      });
    },
  };
}

function respond(res: ServerResponse, page: ResultPage): void {
  const body = `<!doctype html><html><head><meta charset="utf-8"><title>gmail-transport: ${escapeHtml(page.title)}</title></head><body><h1>${escapeHtml(page.title)}</h1><p>${escapeHtml(page.text)}</p></body></html>`;
  res.writeHead(page.status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    // The page is reached with the authorization code in its URL: keep it out of any Referer.
    'referrer-policy': 'no-referrer',
  });
  res.end(body);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}
