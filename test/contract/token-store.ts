import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { setupServer } from 'msw/node';
import { randomBytes, randomUUID } from 'node:crypto';
import { createGmailTransport, type GmailTransportConfig, type TokenStore, type TransportEvents } from '../../src/index.js';
import { GuardedStore } from '../../src/tokens/store.js';
import { resolveRefreshLock } from '../../src/tokens/lock.js';
import { GOOGLE_TOKEN_URL, tokenStoreKey } from '../../src/tokens/keys.js';
import { startRecordingServer, type RecordingServer } from '../helpers/smtp-server.js';
import { TokenAuthority } from '../helpers/google-token.js';
import { CLIENT_SECRET, REFRESH_TOKEN, localSmtp, uniqueClientId } from '../helpers/oauth-fixtures.js';

/** One store as the contract sees it. */
export interface StoreUnderTest {
  /** What a user passes as `tokenStore`; `undefined` for the default (memory). */
  store: TokenStore | undefined;
  /**
   * A second handle on the same data, as another process would have (another Keyv instance on
   * the same Redis, another wrapper around the same Map). Absent for a per-process store.
   */
  twin?: TokenStore;
  /** Whether the store can lock across processes by itself (SET NX PX under @keyv/redis). */
  lockable: boolean;
  /** Lets `ms` pass for the store's expiry: a fake clock, or a real wait for a server's TTL. */
  elapse(ms: number): Promise<void>;
  cleanup?(): Promise<void> | void;
}

const key = () => `gmail-transport:v2:contract:${randomUUID()}`;

/**
 * The contract every token store passes (the model is @keyv/test-suite): values round-trip
 * unchanged under our keys, expire with their TTL, can be deleted; the lock is there exactly
 * when the store can lock; and through the public API, a transport writes its token there
 * (sealed when a key is set) and a transport of "another process" reads it instead of asking
 * Google again.
 */
export function runTokenStoreContract(name: string, makeStore: () => Promise<StoreUnderTest> | StoreUnderTest): void {
  describe(`${name}: token store contract`, () => {
    let subject: StoreUnderTest;
    let guarded: GuardedStore;
    let warnings: string[];
    const msw = setupServer();
    let authority: TokenAuthority;
    let smtp: RecordingServer;

    beforeAll(async () => {
      msw.listen({ onUnhandledRequest: 'error' });
      smtp = await startRecordingServer({ secure: true });
    });
    beforeEach(async () => {
      subject = await makeStore();
      warnings = [];
      guarded = new GuardedStore(subject.store, 2_000, (code) => warnings.push(code), Date.now);
      authority = new TokenAuthority();
      msw.resetHandlers(authority.handler());
    });
    afterEach(async () => {
      vi.useRealTimers();
      await subject.cleanup?.();
    });
    afterAll(async () => {
      msw.close();
      await smtp.close();
    });

    it('a missing key reads as undefined', async () => {
      expect(await guarded.get(key())).toBeUndefined();
      expect(warnings).toEqual([]);
    });

    it('a value round-trips unchanged, and delete removes it', async () => {
      const k = key();
      const value = `gt1.${randomBytes(40).toString('base64url')}.{"json":true}`;
      expect(await guarded.set(k, value, 60_000)).toBe(true);
      expect(await guarded.get(k)).toBe(value);
      expect(await guarded.get(key())).toBeUndefined();
      await guarded.delete(k);
      expect(await guarded.get(k)).toBeUndefined();
      expect(warnings).toEqual([]);
    });

    it('a value expires with its TTL (in milliseconds)', async () => {
      const k = key();
      await guarded.set(k, 'short-lived', 300);
      await guarded.set(`${k}:long`, 'long-lived', 60_000);
      await subject.elapse(450);
      expect(await guarded.get(k)).toBeUndefined();
      expect(await guarded.get(`${k}:long`)).toBe('long-lived');
    });

    it('a lock exists exactly when the store can lock; it is exclusive, owned and expires', async () => {
      const lock = resolveRefreshLock(subject.store, undefined);
      if (!subject.lockable) {
        expect(lock).toBeUndefined();
        return;
      }
      expect(lock?.kind).toBe('redis');
      const other = resolveRefreshLock(subject.twin, undefined)!;
      const k = `${key()}:lock`;
      expect(await lock!.acquire(k, 5_000)).toBe(true);
      expect(await other.acquire(k, 5_000)).toBe(false);
      expect(await lock!.acquire(k, 5_000)).toBe(false);
      await other.release(k); // not the holder: must not free it
      expect(await other.acquire(k, 5_000)).toBe(false);
      await lock!.release(k);
      expect(await other.acquire(k, 300)).toBe(true);
      await subject.elapse(450);
      expect(await lock!.acquire(k, 5_000)).toBe(true);
      await lock!.release(k);
    });

    it('through the public API: the token lands under a namespaced, hashed key, plain or sealed', async () => {
      const clientId = uniqueClientId();
      const encryptionKey = randomBytes(32).toString('base64');
      for (const sealed of [false, true]) {
        const mailer = createGmailTransport(
          oauthConfig(smtp, clientId, subject.store, sealed ? { tokenEncryptionKey: encryptionKey, user: 'sealed@gmail.com' } : {}),
        );
        await mailer.sendMail({ from: 'me@gmail.com', to: 'you@example.com', text: 'x' });
        mailer.close();
      }
      expect(authority.requests).toHaveLength(2);
      const identity = {
        kind: 'refresh-token',
        client: clientId,
        scopes: ['https://mail.google.com/'],
        tokenUrl: GOOGLE_TOKEN_URL,
        secrets: [CLIENT_SECRET, REFRESH_TOKEN],
      };
      const plainKey = tokenStoreKey({ ...identity, user: 'me@gmail.com' });
      const sealedKey = tokenStoreKey({ ...identity, user: 'sealed@gmail.com' });
      expect(plainKey).toMatch(/^gmail-transport:v2:refresh-token:[0-9a-f]{64}$/);
      expect(plainKey).not.toContain('me@gmail.com');
      if (subject.store === undefined) return; // the default store lives inside the provider
      const plain = await subject.store.get(plainKey);
      expect(JSON.parse(String(plain))).toEqual({ v: 1, token: authority.issued[0], expiresAt: expect.any(Number) });
      const sealedValue = String(await subject.store.get(sealedKey));
      expect(sealedValue).toMatch(/^gt1\./);
      expect(sealedValue).not.toContain(authority.issued[1]);
    });

    it('through the public API: another process reuses the stored token instead of asking Google', async () => {
      if (!subject.twin) {
        // A per-process store: each process makes its own request (docs/token-stores.md).
        expect(subject.store === undefined || !subject.lockable).toBe(true);
        return;
      }
      const clientId = uniqueClientId();
      const first = createGmailTransport(oauthConfig(smtp, clientId, subject.store));
      await first.sendMail({ from: 'me@gmail.com', to: 'you@example.com', text: 'x' });
      const second = createGmailTransport(oauthConfig(smtp, clientId, subject.twin));
      const events: TransportEvents['token'][] = [];
      second.on('token', (e) => events.push(e));
      await second.sendMail({ from: 'me@gmail.com', to: 'you@example.com', text: 'y' });
      expect(authority.requests).toHaveLength(1);
      expect(events).toEqual([{ strategy: 'oauth2', user: 'me@gmail.com', expiresAt: expect.any(Number), source: 'store' }]);
      expect(smtp.messages.at(-1)!.auth?.accessToken).toBe(authority.issued[0]);
      first.close();
      second.close();
    });
  });
}

function oauthConfig(smtp: RecordingServer, clientId: string, tokenStore: TokenStore | undefined, extra: Record<string, unknown> = {}): GmailTransportConfig {
  return {
    strategy: 'oauth2',
    user: 'me@gmail.com',
    clientId,
    clientSecret: CLIENT_SECRET,
    refreshToken: REFRESH_TOKEN,
    smtp: localSmtp(smtp),
    retry: false,
    ...(tokenStore ? { tokenStore } : {}),
    ...extra,
  } as GmailTransportConfig;
}
