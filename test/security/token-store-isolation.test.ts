/**
 * Issue 25: a shared token store must hand a token only to a caller holding the credential it
 * was obtained with. Everything runs through createGmailTransport against a real redis-server
 * (Keyv + @keyv/redis), a local SMTP server and msw playing Google's token endpoint and the
 * Gmail API. Every tenant "process" has a Keyv instance of its own, as separate processes would.
 */
import { createHash, createVerify, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import Keyv from 'keyv';
import KeyvRedis, { createClient } from '@keyv/redis';
import { setupServer } from 'msw/node';
import { http, HttpResponse } from 'msw';
import { createGmailTransport, isGmailTransportError, type GmailTransportConfig, type GmailTransporter, type TransportEvents } from '../../src/index.js';
import { HAS_REDIS, REDIS_SKIP_REASON, startRedis, type RedisServer } from '../helpers/redis.js';
import { startRecordingServer, type RecordingServer } from '../helpers/smtp-server.js';
import { localSmtp } from '../helpers/oauth-fixtures.js';
import { tokenFixture } from '../helpers/google-token.js';
import { expectNoSecret } from '../contract/strategy.js';

const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
/** A token endpoint run by the attacker; a config may name any https endpoint. */
const ATTACKER_TOKEN_URL = 'https://token.attacker.test/token';
const GMAIL_API = 'https://gmail.googleapis.com';

const MAILBOX_A = 'billing@tenant-a.example';
const MAILBOX_MALLORY = 'mallory@tenant-b.example';
/** A Desktop app client's secret is not confidential (it ships with the app): the attacker knows it. */
const CLIENT_SECRET = 'FAKE-CLIENT-SECRET-25aa';
const REFRESH_A = '1//FAKE-REFRESH-A-25bb';
const REFRESH_MALLORY = '1//FAKE-REFRESH-MALLORY-25cc';

function rsaKey(): { privateKey: string; publicKey: string } {
  return generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
}
const KEY_A = rsaKey();
const KEY_MALLORY = rsaKey();
const SECRETS = [CLIENT_SECRET, REFRESH_A, REFRESH_MALLORY, KEY_A.privateKey.split('\n')[1]!, KEY_MALLORY.privateKey.split('\n')[1]!];

interface TokenRequest {
  url: string;
  grant: string;
  ok: boolean;
}

/**
 * Google as far as these tests need it: clients with their secrets, refresh tokens issued to a
 * mailbox, service accounts with their public keys; every access token it issues acts for one
 * mailbox, and the SMTP server and the Gmail API accept a token only for that mailbox.
 */
class FakeGoogle {
  readonly clients = new Map<string, string>();
  readonly refreshTokens = new Map<string, { clientId: string; mailbox: string }>();
  readonly serviceAccounts = new Map<string, string>();
  readonly owners = new Map<string, string>();
  readonly requests: TokenRequest[] = [];
  /** Holds back the answer to a refresh with this refresh token until `release` is called. */
  stall: { refreshToken: string; until: Promise<void> } | undefined;
  #issued = 0;

  issue(mailbox: string): string {
    const token = `ya29.FAKE-ACCESS-${++this.#issued}-${randomBytes(4).toString('hex')}`;
    this.owners.set(token, mailbox.toLowerCase());
    return token;
  }

  ownerOf(token: string | undefined | null): string | undefined {
    return token ? this.owners.get(token) : undefined;
  }

  async answer(form: URLSearchParams): Promise<Response> {
    const grant = form.get('grant_type') ?? '';
    const refuse = (fixture: string) => {
      this.requests.push({ url: GOOGLE_TOKEN_URL, grant, ok: false });
      const reply = tokenFixture(fixture);
      return HttpResponse.json(reply.body, { status: reply.status });
    };
    let mailbox: string;
    if (grant === 'refresh_token') {
      const clientId = form.get('client_id') ?? '';
      if (!this.clients.has(clientId) || this.clients.get(clientId) !== form.get('client_secret')) return refuse('token-401-invalid-client-unauthorized');
      const refreshToken = form.get('refresh_token') ?? '';
      const grantOf = this.refreshTokens.get(refreshToken);
      if (!grantOf || grantOf.clientId !== clientId) return refuse('token-400-invalid-grant-bad-request');
      if (this.stall?.refreshToken === refreshToken) await this.stall.until;
      mailbox = grantOf.mailbox;
    } else {
      const [header, payload, signature] = (form.get('assertion') ?? '').split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { iss: string; sub: string };
      const publicKey = this.serviceAccounts.get(claims.iss);
      const verifier = createVerify('RSA-SHA256').update(`${header}.${payload}`);
      if (!publicKey || !verifier.verify(publicKey, Buffer.from(signature, 'base64url'))) {
        // What Google answers to an assertion signed with another key than the account's.
        this.requests.push({ url: GOOGLE_TOKEN_URL, grant, ok: false });
        return HttpResponse.json({ error: 'invalid_grant', error_description: 'Invalid JWT Signature.' }, { status: 400 });
      }
      mailbox = claims.sub;
    }
    this.requests.push({ url: GOOGLE_TOKEN_URL, grant, ok: true });
    return HttpResponse.json({ access_token: this.issue(mailbox), expires_in: 3599, token_type: 'Bearer', scope: 'https://mail.google.com/' });
  }
}

let google = new FakeGoogle();
/** What the attacker's endpoint hands out: a genuine token of the attacker's own mailbox. */
let chosenToken = '';
const apiSends: { user: string; token: string | undefined; status: number }[] = [];

const msw = setupServer(
  http.post(GOOGLE_TOKEN_URL, async ({ request }) => google.answer(new URLSearchParams(await request.text()))),
  http.post(ATTACKER_TOKEN_URL, async ({ request }) => {
    google.requests.push({ url: ATTACKER_TOKEN_URL, grant: new URLSearchParams(await request.text()).get('grant_type') ?? '', ok: true });
    return HttpResponse.json({ access_token: chosenToken, expires_in: 3599, token_type: 'Bearer' });
  }),
  http.post(`${GMAIL_API}/gmail/v1/users/:user/messages/send`, ({ request, params }) => {
    const user = decodeURIComponent(String(params.user)).toLowerCase();
    const token = /^Bearer (.+)$/.exec(request.headers.get('authorization') ?? '')?.[1];
    const owner = google.ownerOf(token);
    const status = owner === undefined ? 401 : owner !== user ? 403 : 200;
    apiSends.push({ user, token, status });
    if (status === 401)
      return HttpResponse.json({ error: { code: 401, message: 'Request had invalid authentication credentials.', status: 'UNAUTHENTICATED' } }, { status });
    if (status === 403)
      return HttpResponse.json(
        { error: { code: 403, message: `Delegation denied for ${user}`, errors: [{ reason: 'forbidden' }], status: 'PERMISSION_DENIED' } },
        { status },
      );
    return HttpResponse.json({ id: `msg-${apiSends.length}`, threadId: 't', labelIds: ['SENT'] });
  }),
);

type StrategyName = 'oauth2' | 'service-account' | 'gmail-api';

/** One tenant's credentials: what its config holds besides the store. */
interface Credentials {
  client: string;
  secrets: Record<string, unknown>;
  endpoints?: { token: string };
}

if (!HAS_REDIS) {
  describe.skip(`issue 25: token store isolation${REDIS_SKIP_REASON}`, () => {
    it('needs redis-server', () => undefined);
  });
} else {
  describe('issue 25: a shared Redis token store hands a token only to the credential it was obtained with', () => {
    let redis: RedisServer;
    let smtp: RecordingServer;
    const stores: Keyv[] = [];
    const mailers: GmailTransporter[] = [];

    beforeAll(async () => {
      msw.listen({ onUnhandledRequest: 'error' });
      redis = await startRedis();
      smtp = await startRecordingServer({
        secure: true,
        // Gmail accepts an XOAUTH2 login only with a valid token of the account logging in.
        checkAuth: (auth) => auth.method === 'XOAUTH2' && google.ownerOf(auth.accessToken) === (auth.username ?? '').toLowerCase(),
      });
    });
    beforeEach(async () => {
      google = new FakeGoogle();
      apiSends.length = 0;
      smtp.messages.length = 0;
      smtp.authAttempts.length = 0;
      await withRedis((client) => client.flushAll());
    });
    afterEach(async () => {
      for (const mailer of mailers.splice(0)) mailer.close();
      await Promise.all(stores.splice(0).map((store) => store.disconnect().catch(() => undefined)));
    });
    afterAll(async () => {
      msw.close();
      await smtp?.close();
      await redis?.stop();
    });

    /** Runs `work` with a client of the test's own on the shared redis-server. */
    async function withRedis<T>(
      work: (client: { flushAll(): Promise<unknown>; keys(pattern: string): Promise<string[]>; get(key: string): Promise<string | null> }) => Promise<T>,
    ): Promise<T> {
      const client = createClient({ url: redis.url });
      await client.connect();
      try {
        return await work(client);
      } finally {
        client.destroy();
      }
    }

    /** A store of its own for one tenant process, on the one shared redis-server. */
    function sharedStore(): Keyv {
      const store = new Keyv(new KeyvRedis(redis.url, { throwOnConnectError: true, connectionTimeout: 2_000 }));
      stores.push(store);
      return store;
    }

    /** Tenant A: a registered client (or service account) whose mailbox is MAILBOX_A. */
    function tenantA(strategy: StrategyName): Credentials {
      if (strategy === 'service-account') {
        const email = `mailer-${randomUUID().slice(0, 8)}@tenant-a.iam.gserviceaccount.com`;
        google.serviceAccounts.set(email, KEY_A.publicKey);
        return { client: email, secrets: { serviceAccount: { type: 'service_account', client_email: email, private_key: KEY_A.privateKey } } };
      }
      const clientId = `${randomUUID().slice(0, 12)}.apps.googleusercontent.com`;
      google.clients.set(clientId, CLIENT_SECRET);
      google.refreshTokens.set(REFRESH_A, { clientId, mailbox: MAILBOX_A });
      google.refreshTokens.set(REFRESH_MALLORY, { clientId, mailbox: MAILBOX_MALLORY });
      return { client: clientId, secrets: { clientId, clientSecret: CLIENT_SECRET, refreshToken: REFRESH_A } };
    }

    function transport(strategy: StrategyName, credentials: Credentials, tokenStore: Keyv, extra: Record<string, unknown> = {}) {
      const config = {
        strategy,
        user: MAILBOX_A,
        ...credentials.secrets,
        ...(credentials.endpoints ? { endpoints: credentials.endpoints } : {}),
        ...(strategy === 'gmail-api' ? {} : { smtp: localSmtp(smtp) }),
        tokenStore,
        retry: false,
        ...extra,
      } as GmailTransportConfig;
      const mailer = createGmailTransport(config);
      mailers.push(mailer);
      const tokens: TransportEvents['token'][] = [];
      mailer.on('token', (event) => tokens.push(event));
      return { mailer, tokens };
    }

    /** Everything that reached the mail servers, as (mailbox, token) pairs. */
    function delivered(): { user: string; token: string | undefined }[] {
      const bySmtp = smtp.messages.map((m) => ({ user: (m.auth?.username ?? '').toLowerCase(), token: m.auth?.accessToken }));
      return [...bySmtp, ...apiSends.filter((s) => s.status === 200).map(({ user, token }) => ({ user, token }))];
    }

    /** Every token presented to a mail server (accepted or not), in order. */
    function presented(): { user: string; token: string | undefined }[] {
      return [
        ...smtp.authAttempts.map((a) => ({ user: a.username.toLowerCase(), token: a.accessToken })),
        ...apiSends.map(({ user, token }) => ({ user, token })),
      ];
    }

    const send = (mailer: GmailTransporter, subject: string) => mailer.sendMail({ from: MAILBOX_A, to: 'customer@example.org', subject, text: subject });

    async function refusal(promise: Promise<unknown>): Promise<Record<string, unknown>> {
      const err = await promise.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isGmailTransportError(err), `expected a refusal, got ${String(err)}`).toBe(true);
      expectNoSecret(err, SECRETS);
      return err as Record<string, unknown>;
    }

    /** The same client and mailbox as A, with secrets of the attacker's making. */
    function forged(strategy: StrategyName, a: Credentials, variant: 'bogus-refresh-token' | 'bogus-secrets' = 'bogus-refresh-token'): Credentials {
      if (strategy === 'service-account') {
        return { client: a.client, secrets: { serviceAccount: { type: 'service_account', client_email: a.client, private_key: KEY_MALLORY.privateKey } } };
      }
      const clientSecret = variant === 'bogus-secrets' ? 'bogus' : CLIENT_SECRET;
      return { client: a.client, secrets: { ...a.secrets, clientSecret, refreshToken: 'bogus' } };
    }

    const strategies: StrategyName[] = ['oauth2', 'service-account', 'gmail-api'];

    describe.each(strategies)('%s', (strategy) => {
      describe.each([
        { title: 'plain values', extra: {} },
        { title: 'one tokenEncryptionKey shared by the deployment', extra: { tokenEncryptionKey: randomBytes(32).toString('base64') } },
      ])('reading another credential’s token, $title', ({ extra }) => {
        it('a config whose secrets the endpoint refuses gets OAUTH_INVALID_GRANT and sends nothing, though a valid token for the same client and mailbox sits in the store', async () => {
          const a = tenantA(strategy);
          const first = transport(strategy, a, sharedStore(), extra);
          await send(first.mailer, 'from A');
          // A second process of A finds A's token in the store: it is there, and valid.
          const again = transport(strategy, a, sharedStore(), extra);
          await send(again.mailer, 'from A again');
          expect(again.tokens.map((t) => t.source)).toEqual(['store']);
          expect(google.requests).toEqual([
            { url: GOOGLE_TOKEN_URL, grant: strategy === 'service-account' ? 'urn:ietf:params:oauth:grant-type:jwt-bearer' : 'refresh_token', ok: true },
          ]);
          expect(delivered()).toHaveLength(2);
          const mark = presented().length;

          const attacker = transport(strategy, forged(strategy, a), sharedStore(), extra);
          const err = await refusal(send(attacker.mailer, 'from the attacker'));
          expect(err.code).toBe('OAUTH_INVALID_GRANT');
          expect(err.phase).toBe('token');
          // The endpoint was asked, and refused the attacker's secrets.
          expect(google.requests.at(-1)).toMatchObject({ url: GOOGLE_TOKEN_URL, ok: false });
          expect(attacker.tokens).toEqual([]);
          expect(delivered()).toHaveLength(2);
          expect(presented().slice(mark)).toEqual([]);
        });

        if (strategy !== 'service-account') {
          it('the reproduction of the issue: clientSecret and refreshToken both "bogus" are refused too, nothing sent', async () => {
            const a = tenantA(strategy);
            await send(transport(strategy, a, sharedStore(), extra).mailer, 'from A');
            const attacker = transport(strategy, forged(strategy, a, 'bogus-secrets'), sharedStore(), extra);
            const err = await refusal(send(attacker.mailer, 'from the attacker'));
            expect(err.code).toBe('OAUTH_INVALID_CLIENT');
            expect(google.requests.map((r) => r.ok)).toEqual([true, false]);
            expect(delivered()).toHaveLength(1);
          });
        }
      });

      const vectors = strategy === 'service-account' ? (['own-endpoint'] as const) : (['own-refresh-token', 'own-endpoint'] as const);
      describe.each(vectors)('poisoning another credential’s slot (%s)', (vector) => {
        it('a token written by a config with credentials of its own is never handed to A', async () => {
          const a = tenantA(strategy);
          // The attacker's token: a genuine one, for the attacker's own mailbox.
          chosenToken = google.issue(MAILBOX_MALLORY);
          const mallory: Credentials =
            vector === 'own-endpoint'
              ? { ...forged(strategy, a), endpoints: { token: ATTACKER_TOKEN_URL } }
              : { client: a.client, secrets: { ...a.secrets, refreshToken: REFRESH_MALLORY } };
          const attacker = transport(strategy, mallory, sharedStore());
          // Its own send fails (the token is not for A's mailbox); what matters is what it stored.
          await send(attacker.mailer, 'poison').catch(() => undefined);
          const malloryTokens = [...google.owners].filter(([, owner]) => owner === MAILBOX_MALLORY).map(([token]) => token);
          expect(presented().some((p) => malloryTokens.includes(p.token!))).toBe(true);
          const keysAfterPoison = await withRedis((client) => client.keys('*gmail-transport:*'));
          expect(keysAfterPoison.filter((k) => !k.endsWith(':lock'))).toHaveLength(1);

          const mark = presented().length;
          const requestsBefore = google.requests.length;
          const victim = transport(strategy, a, sharedStore());
          await send(victim.mailer, 'from A');
          // A asked Google for a token of its own and used only that one.
          expect(victim.tokens.map((t) => t.source)).toEqual(['endpoint']);
          expect(google.requests.slice(requestsBefore)).toEqual([expect.objectContaining({ url: GOOGLE_TOKEN_URL, ok: true })]);
          const used = presented().slice(mark);
          expect(used.length).toBeGreaterThan(0);
          for (const p of used) expect(google.ownerOf(p.token)).toBe(MAILBOX_A);
          expect(delivered().at(-1)).toEqual({ user: MAILBOX_A, token: expect.any(String) });
          expect(google.ownerOf(delivered().at(-1)!.token)).toBe(MAILBOX_A);
          // Two slots now, the attacker's and A's.
          const keys = await withRedis((client) => client.keys('*gmail-transport:*'));
          expect(keys.filter((k) => !k.endsWith(':lock'))).toHaveLength(2);
        });
      });
    });

    it("a forged config does not wait on A's refresh lock: it is refused while A's token request is still running", async () => {
      const a = tenantA('oauth2');
      let release: () => void = () => undefined;
      google.stall = { refreshToken: REFRESH_A, until: new Promise<void>((resolve) => (release = resolve)) };
      const victim = transport('oauth2', a, sharedStore());
      const victimSend = send(victim.mailer, 'from A');
      // A holds its lock while its token request hangs.
      await expect.poll(() => withRedis((client) => client.keys('*:lock')), { timeout: 5_000, interval: 20 }).toHaveLength(1);
      const attacker = transport('oauth2', forged('oauth2', a), sharedStore());
      const outcome = await Promise.race([
        refusal(send(attacker.mailer, 'from the attacker')),
        new Promise<'still waiting'>((resolve) => setTimeout(() => resolve('still waiting'), 3_000)),
      ]);
      release();
      expect(outcome).toMatchObject({ code: 'OAUTH_INVALID_GRANT' });
      await victimSend;
      expect(delivered()).toEqual([{ user: MAILBOX_A, token: expect.any(String) }]);
      expect(google.ownerOf(delivered()[0]!.token)).toBe(MAILBOX_A);
    });

    it('tokens cached under the old (v1) key layout are ignored, not migrated: one token request after the upgrade', async () => {
      const a = tenantA('oauth2');
      const store = sharedStore();
      // What an earlier version left: a valid token of A under sha256(client, user, scopes).
      const oldKey = `gmail-transport:v1:refresh-token:${createHash('sha256').update(`${a.client}\n${MAILBOX_A}\nhttps://mail.google.com/`).digest('hex')}`;
      const oldToken = google.issue(MAILBOX_A);
      const oldValue = JSON.stringify({ v: 1, token: oldToken, expiresAt: Date.now() + 3_000_000 });
      await store.set(oldKey, oldValue, 3_000_000);
      const upgraded = transport('oauth2', a, store);
      await send(upgraded.mailer, 'after the upgrade');
      expect(upgraded.tokens.map((t) => t.source)).toEqual(['endpoint']);
      expect(google.requests).toHaveLength(1);
      expect(smtp.authAttempts.at(-1)!.accessToken).not.toBe(oldToken);
      // Left alone: it expires with its own TTL.
      expect(await store.get(oldKey)).toBe(oldValue);
    });

    it('the store never learns a secret or an address: keys are v2 digests, values hold access tokens only', async () => {
      for (const strategy of strategies) {
        const a = tenantA(strategy);
        await send(transport(strategy, a, sharedStore()).mailer, `from A by ${strategy}`);
        await send(transport(strategy, forged(strategy, a), sharedStore()).mailer, 'forged').catch(() => undefined);
      }
      const dump = await withRedis(async (client) => {
        const keys = await client.keys('*');
        return Promise.all(keys.map(async (key) => ({ key, value: await client.get(key) })));
      });
      expect(dump.length).toBe(3);
      for (const { key, value } of dump) {
        // Keyv and @keyv/redis each put their namespace in front of our key.
        expect(key).toMatch(/^(keyv:+)*gmail-transport:v2:(refresh-token|service-account):[0-9a-f]{64}$/);
        for (const text of [key, value ?? '']) {
          for (const secret of [...SECRETS, 'bogus', MAILBOX_A, 'tenant-a', 'googleusercontent']) expect(text).not.toContain(secret);
        }
      }
    });
  });
}
