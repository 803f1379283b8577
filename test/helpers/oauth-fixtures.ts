import { randomUUID } from 'node:crypto';
import { vi } from 'vitest';
import type { RecordingServer } from './smtp-server.js';

/** Fake secrets: unique markers that must never show up in an error, event or log line. */
export const CLIENT_SECRET = 'FAKE-CLIENT-SECRET-9c1e';
export const REFRESH_TOKEN = '1//FAKE-REFRESH-7f3a';
export const ACCESS_TOKEN_PREFIX = 'ya29.FAKE-ACCESS';

/** A client id no other test uses, so the process-wide token providers do not meet. */
export function uniqueClientId(): string {
  return `${randomUUID().slice(0, 12)}.apps.googleusercontent.com`;
}

/** An oauth2 config's credentials (a fresh client id, so a cold token cache) and token endpoint. */
export function oauth2Credentials(user: string, tokenUrl: string) {
  return {
    strategy: 'oauth2' as const,
    user,
    clientId: uniqueClientId(),
    clientSecret: CLIENT_SECRET,
    refreshToken: REFRESH_TOKEN,
    endpoints: { token: tokenUrl },
  };
}

/** The `smtp` override that points a strategy at a local implicit-TLS test server. */
export function localSmtp(server: RecordingServer) {
  return { host: '127.0.0.1', port: server.port, secure: true, tls: { ca: [server.cert] } };
}

/**
 * Awaits a promise while faked timers are running: lets real I/O (sockets) through with
 * setImmediate and advances the fake clock in small steps, so backoff sleeps, timeouts and
 * msw delays pass without real waiting.
 */
export async function settleWithFakeTimers<T>(promise: Promise<T>, stepMs = 100, maxSteps = 5_000): Promise<T> {
  let settled = false;
  const watched = promise.then(
    (v) => {
      settled = true;
      return v;
    },
    (e: unknown) => {
      settled = true;
      throw e;
    },
  );
  watched.catch(() => undefined);
  for (let i = 0; i < maxSteps && !settled; i++) {
    for (let j = 0; j < 5 && !settled; j++) await new Promise<void>((r) => setImmediate(r));
    if (!settled) await vi.advanceTimersByTimeAsync(stepMs);
  }
  return watched;
}
