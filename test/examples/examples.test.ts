import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import Keyv from 'keyv';
import { createTransport } from 'nodemailer';
import { createGmailTransport, isGmailTransportError, type TransportEvents } from '../../src/index.js';
import { startLocalStack, type LocalStack } from '../../examples/lib/local-stack.js';
import { LOCAL_FLAG } from '../../examples/lib/target.js';
import * as express from '../../examples/express-password-reset.js';
import * as authjs from '../../examples/authjs-email-provider.js';
import Nodemailer from '@auth/core/providers/nodemailer';
import * as serviceAccounts from '../../examples/service-account-multi-user.js';
import * as failover from '../../examples/failover-gmail-to-relay.js';
import * as gmailApi from '../../examples/gmail-api-smtp-blocked.js';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack();
});
afterAll(() => stack.close());
afterEach(() => stack.setGmailQuotaExceeded(false));

const secretsOf = (s: LocalStack) => [
  s.credentials.oauth2.clientSecret,
  s.credentials.oauth2.refreshToken,
  s.credentials.relay.pass,
  'PRIVATE KEY',
  'ya29.local',
];
function expectNoSecret(value: unknown): void {
  for (const text of [String(value), JSON.stringify(value), inspect(value, { depth: 5 })])
    for (const secret of secretsOf(stack)) expect(text).not.toContain(secret);
}
const arrived = (subject: string) => stack.received().filter((s) => s.subject === subject);

/** A port nothing listens on: an SMTP host that blocks or drops outbound mail. */
async function closedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('examples/express-password-reset.ts', () => {
  const saved: { email: string; tokenHash: string }[] = [];
  let base: string;
  let close: () => void;
  let stopServer: () => void;

  beforeAll(async () => {
    const made = express.createPasswordResetApp({
      mail: { strategy: 'oauth2', ...stack.credentials.oauth2, ...stack.overrides.gmailSmtp },
      from: stack.credentials.oauth2.user,
      appUrl: 'https://app.example.com',
      saveResetToken: async (email, tokenHash) => {
        if (email.endsWith('@nobody.example')) return false;
        saved.push({ email, tokenHash });
        return true;
      },
    });
    const server = made.app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = made.close;
    stopServer = () => server.close();
  });
  afterAll(() => {
    close();
    stopServer();
  });

  const post = (body: unknown) =>
    fetch(`${base}/password-reset`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('mails a one-time link whose token matches the stored hash', async () => {
    const response = await post({ email: 'alice@example.org' });
    expect(response.status).toBe(202);
    const [mail] = arrived('Reset your password').filter((s) => s.envelope.to.includes('alice@example.org'));
    expect(mail?.auth).toMatch(/^XOAUTH2 as me@example\.com/);
    const token = /https:\/\/app\.example\.com\/reset-password\?token=([\w-]+)/.exec(mail?.text ?? '')?.[1];
    expect(token).toBeDefined();
    expect(saved.at(-1)).toEqual({ email: 'alice@example.org', tokenHash: createHash('sha256').update(token!).digest('hex') });
  });

  it('answers the same for an unknown address, without mailing; refuses a malformed one', async () => {
    const before = stack.received().length;
    expect((await post({ email: 'ghost@nobody.example' })).status).toBe(202);
    expect((await post({ email: 'not an address' })).status).toBe(400);
    expect((await post({})).status).toBe(400);
    expect(stack.received().length).toBe(before);
  });

  it('answers 500 when Gmail refuses for good (its daily limit is spent), without a secret in the body', async () => {
    stack.setGmailQuotaExceeded(true);
    const response = await post({ email: 'frank@example.org' });
    expect(response.status).toBe(500);
    expectNoSecret(await response.text());
  });

  it('answers 503 with Retry-After when Gmail cannot be reached for now', async () => {
    const unreachable = express.createPasswordResetApp({
      mail: {
        strategy: 'oauth2',
        ...stack.credentials.oauth2,
        ...stack.overrides.gmailSmtp,
        smtp: { ...stack.overrides.gmailSmtp.smtp, port: await closedPort() },
        retry: false,
      },
      from: stack.credentials.oauth2.user,
      appUrl: 'https://app.example.com',
      saveResetToken: async () => true,
    });
    const server = unreachable.app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/password-reset`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"email":"bob@example.org"}',
      });
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('60');
      const body = await response.text();
      expect(body).toBe('{"error":"try again in a minute"}');
      expectNoSecret(body);
    } finally {
      unreachable.close();
      server.close();
    }
  });
});

describe('examples/authjs-email-provider.ts', () => {
  it("sends Auth.js's sign-in link through the transport", async () => {
    const mailer = createGmailTransport({ strategy: 'oauth2', ...stack.credentials.oauth2, ...stack.overrides.gmailSmtp });
    try {
      const provider = authjs.gmailSignInEmail(mailer, { from: 'Example <me@example.com>' });
      const url = 'https://app.example.com/api/auth/callback/nodemailer?token=one-time-7d2e&email=carol%40example.org';
      await provider.sendVerificationRequest({
        identifier: 'carol@example.org',
        url,
        expires: new Date(Date.now() + 10 * 60_000),
        provider: { from: provider.from },
      });
      const [mail] = arrived('Sign in to app.example.com');
      expect(mail?.envelope).toEqual({ from: 'me@example.com', to: ['carol@example.org'] });
      expect(mail?.text).toContain(url);
      expect(mail?.text).toContain('for 10 minutes');
    } finally {
      mailer.close();
    }
  });

  it("its `server` is our transport, so Auth.js's default sender (createTransport(provider.server)) goes through it too", async () => {
    const mailer = createGmailTransport({ strategy: 'oauth2', ...stack.credentials.oauth2, ...stack.overrides.gmailSmtp });
    try {
      const provider = authjs.gmailSignInEmail(mailer, { from: 'me@example.com' });
      await createTransport(provider.server).sendMail({ from: provider.from, to: 'dave@example.org', subject: 'Sign in (default sender)', text: 'x' });
      expect(arrived('Sign in (default sender)')[0]?.auth).toMatch(/^XOAUTH2 as me@example\.com/);
    } finally {
      mailer.close();
    }
  });

  it('plugs into the real @auth/core Nodemailer provider: its merged config sends through us, and so does its default sender', async () => {
    const mailer = createGmailTransport({ strategy: 'oauth2', ...stack.credentials.oauth2, ...stack.overrides.gmailSmtp });
    try {
      const built = Nodemailer(authjs.gmailSignInEmail(mailer, { from: 'Example <me@example.com>' }));
      expect(built.type).toBe('email');
      // Auth.js keeps the user's config under `options` and merges it over the defaults when it
      // sets providers up (parseProviders); this is the object its sign-in handler then uses.
      const merged = { ...built, ...built.options } as typeof built;
      expect(merged.server).toBe(mailer.transporter);
      const request = new Request('https://app.example.com/api/auth/signin/nodemailer', { method: 'POST' });
      const url = 'https://app.example.com/api/auth/callback/nodemailer?token=one-time-41c9&email=faye%40example.org';
      await merged.sendVerificationRequest({
        identifier: 'faye@example.org',
        url,
        expires: new Date(Date.now() + 5 * 60_000),
        provider: merged,
        token: 'one-time-41c9',
        theme: {},
        request,
      });
      expect(arrived('Sign in to app.example.com').some((m) => m.envelope.to.includes('faye@example.org') && m.text?.includes(url))).toBe(true);
      // Without a custom sender, Auth.js's own one does createTransport(provider.server).sendMail(...).
      const withDefaultSender = { ...merged, sendVerificationRequest: built.sendVerificationRequest };
      await built.sendVerificationRequest({
        identifier: 'gus@example.org',
        url,
        expires: new Date(Date.now() + 5 * 60_000),
        provider: withDefaultSender,
        token: 'one-time-41c9',
        theme: {},
        request,
      });
      const viaDefault = arrived('Sign in to app.example.com').find((m) => m.envelope.to.includes('gus@example.org'));
      expect(viaDefault?.auth).toMatch(/^XOAUTH2 as me@example\.com/);
    } finally {
      mailer.close();
    }
  });

  it('fails the sign-in with a typed error when Gmail refuses the message', async () => {
    stack.setGmailQuotaExceeded(true);
    const mailer = createGmailTransport({ strategy: 'oauth2', ...stack.credentials.oauth2, ...stack.overrides.gmailSmtp });
    try {
      const provider = authjs.gmailSignInEmail(mailer, { from: 'me@example.com' });
      const err = await provider
        .sendVerificationRequest({
          identifier: 'erin@example.org',
          url: 'https://app.example.com/cb?token=t',
          expires: new Date(Date.now() + 60_000),
          provider: {},
        })
        .catch((e: unknown) => e);
      expect(isGmailTransportError(err) && err.code).toBe('QUOTA_EXCEEDED');
      expectNoSecret(err);
    } finally {
      mailer.close();
    }
  });
});

describe('examples/service-account-multi-user.ts', () => {
  const users = ['sales@example.com', 'support@example.com', 'billing@example.com'];

  it('sends as each mailbox with its own token, all kept in the one shared store', async () => {
    const cache = new Map<string, unknown>();
    const grantsBefore = stack.google.grants.length;
    const mailboxes = serviceAccounts.createMailboxes(
      { serviceAccount: stack.credentials.serviceAccount.key, ...stack.overrides.gmailSmtp },
      users,
      new Keyv({ store: cache }),
    );
    try {
      for (const round of [1, 2]) {
        for (const user of users) await mailboxes.get(user).sendMail({ from: user, to: 'you@example.org', subject: `round ${round} from ${user}`, text: 'x' });
      }
      const grants = stack.google.grants.slice(grantsBefore);
      expect(grants.map((g) => [g.grant, g.user, g.client])).toEqual(users.map((u) => ['jwt-bearer', u, stack.credentials.serviceAccount.key.client_email]));
      for (const user of users)
        expect(arrived(`round 2 from ${user}`).map((s) => s.auth)).toEqual([
          `XOAUTH2 as ${user}, access token from the local token endpoint (jwt-bearer grant)`,
        ]);
      expect([...cache.keys()]).toHaveLength(3);
      for (const key of cache.keys()) expect(key).toMatch(/^keyv:gmail-transport:v2:service-account:[0-9a-f]{64}$/);
      expect(mailboxes.tokenStore).toBeInstanceOf(Keyv);
      expect(() => mailboxes.get('nobody@example.com')).toThrow('nobody@example.com is not one of the configured mailboxes');
    } finally {
      mailboxes.close();
    }
  });

  it('a mailbox outside the delegated domain is refused by Google, with a typed error and no key in it', async () => {
    const mailboxes = serviceAccounts.createMailboxes({ serviceAccount: stack.credentials.serviceAccount.key, ...stack.overrides.gmailSmtp, retry: false }, [
      'someone@other.org',
    ]);
    try {
      const err = await mailboxes
        .get('someone@other.org')
        .sendMail({ from: 'someone@other.org', to: 'you@example.org', subject: 'x', text: 'x' })
        .catch((e: unknown) => e);
      expect(isGmailTransportError(err) && err.code).toBe('OAUTH_SCOPE_DENIED');
      expectNoSecret(err);
    } finally {
      mailboxes.close();
    }
  });
});

describe('examples/failover-gmail-to-relay.ts', () => {
  const routes = () => ({
    gmail: { ...stack.credentials.oauth2, ...stack.overrides.gmailSmtp },
    relay: { preset: 'sendgrid' as const, auth: stack.credentials.relay, ...stack.overrides.relay },
  });

  it('sends through Gmail while it takes the message', async () => {
    const log: string[] = [];
    const mailer = failover.createFailoverMailer(routes(), (line) => log.push(line));
    try {
      const info = await mailer.sendMail({ from: 'me@example.com', to: 'you@example.org', subject: 'failover: gmail up', text: 'x' });
      expect(arrived('failover: gmail up').map((s) => s.at)).toEqual([`127.0.0.1:${stack.gmail.port}`]);
      expect(log).toEqual([`${info.messageId}: delivered by oauth2 (route 0)`]);
    } finally {
      mailer.close();
    }
  });

  it("moves to the relay when Gmail's daily quota is spent, and skips Gmail while it cools down", async () => {
    stack.setGmailQuotaExceeded(true);
    const log: string[] = [];
    const refusedBefore = stack.gmail.refused.length;
    const mailer = failover.createFailoverMailer(routes(), (line) => log.push(line));
    const failovers: TransportEvents['failover'][] = [];
    mailer.on('failover', (e) => failovers.push(e));
    try {
      const first = await mailer.sendMail({ from: 'me@example.com', to: 'you@example.org', subject: 'failover: quota 1', text: 'x' });
      const second = await mailer.sendMail({ from: 'me@example.com', to: 'you@example.org', subject: 'failover: quota 2', text: 'x' });
      expect(arrived('failover: quota 1').map((s) => s.at)).toEqual([`127.0.0.1:${stack.relay.port}`]);
      expect(arrived('failover: quota 2').map((s) => s.auth)).toEqual([`PLAIN as apikey`]);
      expect(stack.gmail.refused.slice(refusedBefore).map((r) => r.subject)).toEqual(['failover: quota 1']);
      expect(failovers).toEqual([{ from: 0, to: 1, fromStrategy: 'oauth2', toStrategy: 'relay', code: 'QUOTA_EXCEEDED', messageId: first.messageId }]);
      expect(log).toEqual([
        `${first.messageId}: oauth2 failed with QUOTA_EXCEEDED, trying relay`,
        `${first.messageId}: delivered by relay (route 1)`,
        `${second.messageId}: delivered by relay (route 1)`,
      ]);
    } finally {
      mailer.close();
    }
  });
});

describe('examples/gmail-api-smtp-blocked.ts', () => {
  it('sends with an attachment through the Gmail API where SMTP cannot get out', async () => {
    const port = await closedPort();
    const overSmtp = createGmailTransport({
      strategy: 'oauth2',
      ...stack.credentials.oauth2,
      ...stack.overrides.gmailSmtp,
      smtp: { ...stack.overrides.gmailSmtp.smtp, port },
      retry: false,
    });
    const overApi = createGmailTransport({ strategy: 'gmail-api', ...stack.credentials.oauth2, ...stack.overrides.gmailApi });
    try {
      const blocked = await overSmtp.sendMail({ from: 'me@example.com', to: 'you@example.org', subject: 'x', text: 'x' }).catch((e: unknown) => e);
      expect(isGmailTransportError(blocked) && blocked.code).toBe('CONNECTION_FAILED');
      await expect(overApi.verify()).resolves.toBe(true);
      const ids = await gmailApi.sendReport(overApi, { from: 'me@example.com', to: 'you@example.org', bcc: 'archive@example.org' });
      expect(ids.id).toMatch(/^[0-9a-f]{16}$/);
      expect(ids.threadId).toBe(ids.id);
      const [mail] = arrived('Weekly report').filter((s) => s.at.startsWith('POST'));
      expect(mail?.attachments).toEqual(['report.csv']);
      expect(mail?.envelope.to).toEqual(['you@example.org', 'archive@example.org']);
      expect(mail?.auth).toMatch(/^Bearer token for me@example\.com \(refresh_token grant/);
    } finally {
      overSmtp.close();
      overApi.close();
    }
  });
});

describe('the examples run as `npm run example -- <name>` (their main, against fresh local stand-ins)', () => {
  let logged: string[];
  beforeAll(() => {
    process.env[LOCAL_FLAG] = '1';
  });
  afterAll(() => {
    delete process.env[LOCAL_FLAG];
  });
  afterEach(() => vi.restoreAllMocks());
  const capture = () => {
    logged = [];
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void logged.push(args.join(' ')));
  };

  it.each([
    ['express-password-reset', express.main, ['POST /password-reset -> 202 {"ok":true}', '"Reset your password" me@example.com -> you@example.org (XOAUTH2']],
    ['authjs-email-provider', authjs.main, ['Sign-in link sent to you@example.org', '"Sign in to app.example.com" me@example.com -> you@example.org']],
    [
      'service-account-multi-user',
      serviceAccounts.main,
      [
        "billing@example.com: access token from Google's token endpoint",
        'The shared token store holds 3 tokens',
        '"Hello from support@example.com" support@example.com -> you@example.org (XOAUTH2',
      ],
    ],
    [
      'failover-gmail-to-relay',
      failover.main,
      ['failed with QUOTA_EXCEEDED, trying relay', '"Daily report 2" me@example.com -> you@example.org (PLAIN as apikey)'],
    ],
    ['gmail-api-smtp-blocked', gmailApi.main, ['Sent through the Gmail API: id ', '"Weekly report" me@example.com -> you@example.org (Bearer token']],
  ] as const)('%s', async (_name, main, expected) => {
    capture();
    await main();
    const output = logged.join('\n');
    for (const line of expected) expect(output).toContain(line);
    expect(process.env.GMAIL_TRANSPORT_EXAMPLE_TARGET).toBeUndefined();
  });
});
