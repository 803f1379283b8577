import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { generateKeyPairSync, createVerify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { setupServer } from 'msw/node';
import { http, HttpResponse, passthrough } from 'msw';
import { simpleParser } from 'mailparser';
import type { MailMessage } from 'nodemailer/lib/mailer';
import { createGmailTransport, isGmailTransportError, type GmailApiConfig, type GmailTransporter, type TransportEvents } from '../../src/index.js';
import { JSON_MAX_BYTES } from '../../src/strategies/gmail-api.js';
import { expectNoSecret, runStrategyContract, strategyGuideBlock } from '../contract/strategy.js';
import { startGmailApiServer, type GmailApiServer } from '../helpers/gmail-api-server.js';
import { startRecordingServer, type RecordingServer } from '../helpers/smtp-server.js';

const CLIENT_SECRET = 'FAKE-CLIENT-SECRET-9c1e';
const REFRESH_TOKEN = 'FAKE-REFRESH-7f3a';
const ACCESS_PREFIX = 'FAKE-ACCESS-51d0-';
const { privateKey: PRIVATE_KEY, publicKey: PUBLIC_KEY } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});
const SECRETS = [CLIENT_SECRET, REFRESH_TOKEN, ACCESS_PREFIX, PRIVATE_KEY.split('\n')[1]!];

const TOKEN_URL = 'https://oauth2.googleapis.com/token';
const API = 'https://gmail.googleapis.com';

interface GmailCall {
  kind: 'json' | 'upload' | 'profile';
  url: URL;
  user: string;
  authorization: string | null;
  contentType: string | null;
  raw?: Buffer;
  rawField?: string;
}

type Reply = (call: GmailCall, index: number) => Response | Promise<Response>;

const calls: GmailCall[] = [];
const tokenRequests: URLSearchParams[] = [];
let reply: Reply;
let profileReply: Reply;

const ok: Reply = (_call, index) => HttpResponse.json({ id: `msg-${index}`, threadId: `thread-${index}`, labelIds: ['SENT'] });

const server = setupServer(
  // The strategy contract below runs against a real local server (test/helpers/gmail-api-server.ts).
  http.all(/^http:\/\/127\.0\.0\.1:\d+\//, () => passthrough()),
  http.post(TOKEN_URL, async ({ request }) => {
    const form = new URLSearchParams(await request.text());
    tokenRequests.push(form);
    return HttpResponse.json({ access_token: `${ACCESS_PREFIX}${tokenRequests.length}`, expires_in: 3599, token_type: 'Bearer' });
  }),
  http.post(`${API}/gmail/v1/users/:user/messages/send`, async ({ request, params }) => {
    const body = (await request.json()) as { raw: string };
    const call: GmailCall = {
      kind: 'json',
      url: new URL(request.url),
      user: String(params.user),
      authorization: request.headers.get('authorization'),
      contentType: request.headers.get('content-type'),
      rawField: body.raw,
      raw: Buffer.from(body.raw, 'base64url'),
    };
    calls.push(call);
    return reply(call, calls.length);
  }),
  http.post(`${API}/upload/gmail/v1/users/:user/messages/send`, async ({ request, params }) => {
    const call: GmailCall = {
      kind: 'upload',
      url: new URL(request.url),
      user: String(params.user),
      authorization: request.headers.get('authorization'),
      contentType: request.headers.get('content-type'),
      raw: Buffer.from(await request.arrayBuffer()),
    };
    calls.push(call);
    return reply(call, calls.length);
  }),
  http.get(`${API}/gmail/v1/users/:user/profile`, ({ request, params }) => {
    const call: GmailCall = {
      kind: 'profile',
      url: new URL(request.url),
      user: String(params.user),
      authorization: request.headers.get('authorization'),
      contentType: null,
    };
    calls.push(call);
    return profileReply(call, calls.length);
  }),
);

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterAll(() => server.close());
beforeEach(() => {
  calls.length = 0;
  tokenRequests.length = 0;
  reply = ok;
  profileReply = (call) => HttpResponse.json({ emailAddress: decodeURIComponent(call.user), messagesTotal: 1, threadsTotal: 1, historyId: '1' });
});

let seq = 0;
const open: GmailTransporter[] = [];
afterEach(() => {
  for (const mailer of open.splice(0)) mailer.close();
});

/** A refresh-token config with a mailbox and client of its own, so tokens and limits never carry over between tests. */
function config(extra: Partial<GmailApiConfig> = {}): GmailApiConfig {
  const n = ++seq;
  return {
    strategy: 'gmail-api',
    user: `sender${n}@example.com`,
    clientId: `client-${n}.apps.googleusercontent.com`,
    clientSecret: CLIENT_SECRET,
    refreshToken: REFRESH_TOKEN,
    retry: false,
    ...extra,
  } as GmailApiConfig;
}

function transport(cfg: GmailApiConfig): GmailTransporter {
  const mailer = createGmailTransport(cfg);
  open.push(mailer);
  return mailer;
}

/** The message exactly as nodemailer composes it for this send (Bcc kept), taken from its own MIME tree. */
function captureComposed(mailer: GmailTransporter): { bytes?: Buffer } {
  const box: { bytes?: Buffer } = {};
  mailer.use('stream', (mail: MailMessage, done: (err?: Error | null) => void) => {
    const node = mail.message as unknown as { keepBcc: boolean; build(cb: (err: Error | null, buf: Buffer) => void): void };
    node.keepBcc = true;
    node.build((err, buf) => {
      node.keepBcc = false;
      box.bytes = buf;
      done(err);
    });
  });
  return box;
}

async function failure(promise: Promise<unknown>): Promise<Record<string, unknown> & Error> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isGmailTransportError(err), `expected a GmailTransportError, got ${String(err)}`).toBe(true);
  expectNoSecret(err, SECRETS);
  return err as Record<string, unknown> & Error;
}

const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
const PDF = Buffer.from('%PDF-1.4\n' + 'binary \u0000\u00ff bytes '.repeat(50), 'latin1');

let contractSeq = 0;
/** The guide's config pointed at the local Gmail API; a client of its own each time, so each transport fetches its own token. */
const pointedAt = (api: GmailApiServer, extra: Record<string, unknown> = {}): GmailApiConfig =>
  ({
    strategy: 'gmail-api',
    user: 'me@example.com',
    clientId: `contract-${++contractSeq}.apps.googleusercontent.com`,
    clientSecret: CLIENT_SECRET,
    refreshToken: REFRESH_TOKEN,
    endpoints: { gmailApi: api.url, token: `${api.url}/token` },
    ...extra,
  }) as GmailApiConfig;

runStrategyContract<GmailApiServer>('gmail-api', {
  start: startGmailApiServer,
  config: (api) => pointedAt(api),
  // A token, then users.getProfile.
  verifyConnections: 2,
  secure: false,
  pool: false,
  secrets: [...SECRETS, 'FAKE-LOCAL-ACCESS-'],
  readmeConfig: { strategy: 'gmail-api', user: 'me@example.com', clientId: 'x', clientSecret: 'x', refreshToken: 'x' },
  invalid: [
    {
      title: 'no credentials',
      config: (api) => pointedAt(api, { clientId: undefined, clientSecret: undefined, refreshToken: undefined }),
      paths: ['clientId'],
    },
    {
      title: 'plain http to an API base that is not loopback',
      config: (api) => pointedAt(api, { endpoints: { gmailApi: 'http://gmail.example.com', token: `${api.url}/token` } }),
      paths: ['endpoints.gmailApi'],
    },
    { title: 'maxConcurrent below 1', config: (api) => pointedAt(api, { maxConcurrent: 0 }), paths: ['maxConcurrent'] },
  ],
});

describe('gmail-api: sending', () => {
  it('posts users.messages.send with the bearer token and raw = base64url of exactly the MIME nodemailer composed', async () => {
    const cfg = config();
    const mailer = transport(cfg);
    const composed = captureComposed(mailer);
    const info = await mailer.sendMail({
      from: `Sender <${cfg.user}>`,
      to: 'To One <to1@example.com>, to2@example.com',
      cc: 'cc@example.com',
      bcc: 'Hidden <hidden@example.com>',
      subject: 'Grüße with an image',
      text: 'plain body',
      html: '<p>Hello <img src="cid:logo@example"></p>',
      headers: { 'X-Campaign': 'spring-2026' },
      attachments: [
        { filename: 'report.pdf', content: PDF, contentType: 'application/pdf' },
        { filename: 'logo.png', content: PNG, cid: 'logo@example' },
      ],
    });

    expect(calls).toHaveLength(1);
    const call = calls[0]!;
    expect(call.kind).toBe('json');
    expect(call.authorization).toBe(`Bearer ${ACCESS_PREFIX}1`);
    expect(call.contentType).toBe('application/json');
    expect(call.url.pathname).toBe(`/gmail/v1/users/${encodeURIComponent(cfg.user)}/messages/send`);
    expect(call.rawField).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(composed.bytes).toBeDefined();
    expect(call.raw!.equals(composed.bytes!)).toBe(true);

    const parsed = await simpleParser(call.raw!, { keepCidLinks: true });
    expect(parsed.subject).toBe('Grüße with an image');
    expect(parsed.from?.value[0]?.address).toBe(cfg.user);
    expect(parsed.to && !Array.isArray(parsed.to) ? parsed.to.value.map((a) => a.address) : []).toEqual(['to1@example.com', 'to2@example.com']);
    expect(parsed.bcc && !Array.isArray(parsed.bcc) ? parsed.bcc.value.map((a) => a.address) : []).toEqual(['hidden@example.com']);
    expect(parsed.headers.get('x-campaign')).toBe('spring-2026');
    expect(parsed.html).toContain('<p>Hello <img src="cid:logo@example"></p>');
    expect(parsed.text?.trim()).toBe('plain body');
    const pdf = parsed.attachments.find((a) => a.filename === 'report.pdf')!;
    expect(pdf.content.equals(PDF)).toBe(true);
    const logo = parsed.attachments.find((a) => a.cid === 'logo@example')!;
    expect(logo.content.equals(PNG)).toBe(true);
    expect(logo.related).toBe(true);

    expect(info).toMatchObject({
      messageId: parsed.messageId,
      envelope: { from: cfg.user, to: ['to1@example.com', 'to2@example.com', 'cc@example.com', 'hidden@example.com'] },
      accepted: ['to1@example.com', 'to2@example.com', 'cc@example.com', 'hidden@example.com'],
      rejected: [],
      id: 'msg-1',
      threadId: 'thread-1',
    });
    expect(info.response).toContain('id=msg-1');
    expect(tokenRequests).toHaveLength(1);
    expect(tokenRequests[0]!.get('grant_type')).toBe('refresh_token');
  });

  it('keeps the Bcc header in raw when Bcc is the only recipient (Gmail delivers to the headers only)', async () => {
    const mailer = transport(config());
    await mailer.sendMail({ from: 'me@example.com', bcc: 'secret-list@example.com', subject: 'bcc only', text: 'x' });
    const head = calls[0]!.raw!.toString('utf8').split('\r\n\r\n')[0]!;
    expect(head).toMatch(/^Bcc: secret-list@example\.com$/m);
    expect(head).not.toMatch(/^To:/m);
  });

  it('uses the delegated mailbox, URL-encoded, in the path', async () => {
    const mailer = transport(config({ user: 'sales+eu@example.com' }));
    await mailer.sendMail({ from: 'sales+eu@example.com', to: 'you@example.com', text: 'x' });
    expect(calls[0]!.url.pathname).toBe('/gmail/v1/users/sales%2Beu%40example.com/messages/send');
    expect(decodeURIComponent(calls[0]!.user)).toBe('sales+eu@example.com');
  });

  it('picks the endpoint by size: JSON up to the threshold, media upload (message/rfc822) above', async () => {
    const mailer = transport(config());
    await mailer.sendMail({ from: 'me@example.com', to: 'you@example.com', subject: 'small', text: 'x' });
    const big = Buffer.alloc(JSON_MAX_BYTES, 7);
    await mailer.sendMail({ from: 'me@example.com', to: 'you@example.com', subject: 'big', text: 'x', attachments: [{ filename: 'big.bin', content: big }] });
    expect(calls.map((c) => c.kind)).toEqual(['json', 'upload']);
    const upload = calls[1]!;
    expect(upload.url.pathname).toMatch(/^\/upload\/gmail\/v1\/users\/[^/]+\/messages\/send$/);
    expect(upload.url.searchParams.get('uploadType')).toBe('media');
    expect(upload.contentType).toBe('message/rfc822');
    expect(upload.authorization).toBe(`Bearer ${ACCESS_PREFIX}1`);
    expect(upload.raw!.length).toBeGreaterThan(JSON_MAX_BYTES);
    const parsed = await simpleParser(upload.raw!);
    expect(parsed.subject).toBe('big');
    expect(parsed.attachments[0]!.content.equals(big)).toBe(true);
  });

  it('refuses a message over 35 MB before any request, token included', async () => {
    const mailer = transport(config());
    const err = await failure(
      mailer.sendMail({
        from: 'me@example.com',
        to: 'you@example.com',
        text: 'x',
        attachments: [{ filename: 'huge.bin', content: Buffer.alloc(27 * 1024 * 1024, 1) }],
      }),
    );
    expect(err).toMatchObject({ code: 'MESSAGE_REJECTED', retryable: false, phase: 'api', strategy: 'gmail-api' });
    expect(err.hint).toContain('35 MB');
    expect(calls).toHaveLength(0);
    expect(tokenRequests).toHaveLength(0);
  });

  it('refuses an envelope that differs from the headers with CONFIG_INVALID, before any request', async () => {
    const mailer = transport(config());
    const err = await failure(
      mailer.sendMail({ from: 'me@example.com', to: 'you@example.com', envelope: { from: 'bounce@example.com', to: ['other@example.com'] }, text: 'x' }),
    );
    expect(err).toMatchObject({ code: 'CONFIG_INVALID', retryable: false, phase: 'config', strategy: 'gmail-api' });
    expect((err.issues as { path: string }[]).map((i) => i.path)).toEqual(['envelope.from', 'envelope.to']);
    expect(err.hint).toMatch(/envelope/);
    expect(calls).toHaveLength(0);
    expect(tokenRequests).toHaveLength(0);
  });

  it('accepts an envelope that says what the headers say', async () => {
    const mailer = transport(config());
    const info = await mailer.sendMail({
      from: 'me@example.com',
      to: 'you@example.com',
      bcc: 'b@example.com',
      envelope: { from: 'ME@example.com', to: ['b@example.com', 'you@example.com'] },
      text: 'x',
    });
    expect(info.accepted).toEqual(['you@example.com', 'b@example.com']);
    expect(calls).toHaveLength(1);
  });

  it('sends a caller-built raw message as it is and reports its own Message-ID', async () => {
    const mailer = transport(config());
    const raw = 'From: me@example.com\r\nTo: you@example.com\r\nBcc: quiet@example.com\r\nSubject: raw\r\nMessage-ID: <raw-1@example.com>\r\n\r\nbody\r\n';
    const info = await mailer.sendMail({ raw, envelope: { from: 'me@example.com', to: ['you@example.com', 'quiet@example.com'] } });
    expect(calls[0]!.raw!.toString('utf8')).toBe(raw);
    expect(info).toMatchObject({ messageId: '<raw-1@example.com>', accepted: ['you@example.com', 'quiet@example.com'] });
  });

  it('refuses a message with no recipient before any request', async () => {
    const mailer = transport(config());
    const err = await failure(mailer.sendMail({ from: 'me@example.com', subject: 'nobody', text: 'x' }));
    expect(err).toMatchObject({ code: 'MESSAGE_INVALID', phase: 'message', retryable: false });
    expect(calls).toHaveLength(0);
  });

  it('works with a service account: JWT-bearer grant with sub = user and the gmail.send scope', async () => {
    const n = ++seq;
    const user = `delegated${n}@example.com`;
    const mailer = transport({
      strategy: 'gmail-api',
      user,
      serviceAccount: { type: 'service_account', client_email: `mailer${n}@project.iam.gserviceaccount.com`, private_key: PRIVATE_KEY },
      retry: false,
    });
    await mailer.sendMail({ from: user, to: 'you@example.com', text: 'x' });
    const form = tokenRequests[0]!;
    expect(form.get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
    const [header, payload, signature] = form.get('assertion')!.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as Record<string, unknown>;
    expect(claims).toMatchObject({ sub: user, iss: `mailer${n}@project.iam.gserviceaccount.com`, scope: 'https://www.googleapis.com/auth/gmail.send' });
    expect(createVerify('RSA-SHA256').update(`${header}.${payload}`).verify(PUBLIC_KEY, Buffer.from(signature!, 'base64url'))).toBe(true);
    expect(calls[0]!.url.pathname).toBe(`/gmail/v1/users/${encodeURIComponent(user)}/messages/send`);
  });
});

interface Fixture {
  id: string;
  phase: string;
  reply: { status: number; body: unknown };
  retryable: boolean;
}
const fixtures = (JSON.parse(readFileSync(new URL('../fixtures/google-replies.json', import.meta.url), 'utf8')) as Fixture[]).filter(
  (f) => f.phase === 'gmail-api',
);

const EXPECTED_CODE: Record<string, string> = {
  'gmailapi-400-invalid-to-header': 'RECIPIENT_REJECTED',
  'gmailapi-400-precondition-check-failed': 'OAUTH_SCOPE_DENIED',
  'gmailapi-400-recipient-address-required': 'RECIPIENT_REJECTED',
  'gmailapi-401-autherror-doc': 'OAUTH_TOKEN_REJECTED',
  'gmailapi-401-unauthenticated': 'OAUTH_TOKEN_REJECTED',
  'gmailapi-403-access-not-configured': 'OAUTH_INVALID_CLIENT',
  'gmailapi-403-dailylimitexceeded-doc': 'QUOTA_EXCEEDED',
  'gmailapi-403-domainpolicy-doc': 'POLICY_REJECTED',
  'gmailapi-403-insufficient-permission': 'OAUTH_SCOPE_DENIED',
  'gmailapi-403-queries-per-minute-quota': 'RATE_LIMITED',
  'gmailapi-403-ratelimitexceeded-doc': 'RATE_LIMITED',
  'gmailapi-429-user-rate-limit-retry-after': 'RATE_LIMITED',
  'gmailapi-500-backenderror-doc': 'TEMPORARY_FAILURE',
};

describe('gmail-api: Google HTTP errors through sendMail (fixtures)', () => {
  for (const fixture of fixtures) {
    it(`${fixture.id} → ${EXPECTED_CODE[fixture.id]}`, async () => {
      reply = () => HttpResponse.json(fixture.reply.body as Record<string, unknown>, { status: fixture.reply.status });
      const mailer = transport(config());
      const err = await failure(mailer.sendMail({ from: 'me@example.com', to: 'you@example.com', text: 'x' }));
      expect(err).toMatchObject({
        code: EXPECTED_CODE[fixture.id],
        retryable: fixture.retryable,
        phase: 'api',
        strategy: 'gmail-api',
        httpStatus: fixture.reply.status,
      });
      expect(typeof err.hint).toBe('string');
      expect(err.messageId).toMatch(/^<.+>$/);
      // A 401 is answered with one refresh and one resend; nothing else is resent by the route.
      expect(calls).toHaveLength(fixture.reply.status === 401 ? 2 : 1);
    });
  }

  it('the API-disabled reply carries the enable-the-Gmail-API hint', async () => {
    const fixture = fixtures.find((f) => f.id === 'gmailapi-403-access-not-configured')!;
    reply = () => HttpResponse.json(fixture.reply.body as Record<string, unknown>, { status: 403 });
    const err = await failure(transport(config()).sendMail({ from: 'me@example.com', to: 'you@example.com', text: 'x' }));
    expect(err).toMatchObject({ code: 'OAUTH_INVALID_CLIENT', reason: 'accessNotConfigured' });
    expect(err.hint).toMatch(/enable/i);
    expect(err.hint).toContain('Gmail API');
  });
});

describe('gmail-api: 401 → one refresh → one resend', () => {
  const unauthorized = fixtures.find((f) => f.id === 'gmailapi-401-unauthenticated')!;

  it('refreshes the token once and resends once, then succeeds', async () => {
    reply = (call, index) => (index === 1 ? HttpResponse.json(unauthorized.reply.body as Record<string, unknown>, { status: 401 }) : ok(call, index));
    const mailer = transport(config());
    const info = await mailer.sendMail({ from: 'me@example.com', to: 'you@example.com', text: 'x' });
    expect(info.id).toBe('msg-2');
    expect(calls.map((c) => c.authorization)).toEqual([`Bearer ${ACCESS_PREFIX}1`, `Bearer ${ACCESS_PREFIX}2`]);
    expect(tokenRequests).toHaveLength(2);
    expect(calls[0]!.raw!.equals(calls[1]!.raw!)).toBe(true);
  });

  it('a second 401 is final: OAUTH_TOKEN_REJECTED, exactly one resend even with retries on', async () => {
    reply = () => HttpResponse.json(unauthorized.reply.body as Record<string, unknown>, { status: 401 });
    const mailer = transport(config({ retry: { attempts: 5, minDelayMs: 0, maxDelayMs: 0 } }));
    const err = await failure(mailer.sendMail({ from: 'me@example.com', to: 'you@example.com', text: 'x' }));
    expect(err).toMatchObject({ code: 'OAUTH_TOKEN_REJECTED', retryable: false, httpStatus: 401, reason: 'authError' });
    expect(calls).toHaveLength(2);
    expect(tokenRequests).toHaveLength(2);
  });
});

describe('gmail-api: Retry-After', () => {
  const limited = fixtures.find((f) => f.id === 'gmailapi-403-ratelimitexceeded-doc')!;

  it('sets retryAfterMs from the header', async () => {
    reply = () => HttpResponse.json(limited.reply.body as Record<string, unknown>, { status: 403, headers: { 'Retry-After': '7' } });
    const err = await failure(transport(config()).sendMail({ from: 'me@example.com', to: 'you@example.com', text: 'x' }));
    expect(err).toMatchObject({ code: 'RATE_LIMITED', retryable: true, retryAfterMs: 7000 });
  });

  it('the retry waits at least as long as Google asked, then delivers once', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      reply = (call, index) =>
        index === 1 ? HttpResponse.json(limited.reply.body as Record<string, unknown>, { status: 429, headers: { 'Retry-After': '7' } }) : ok(call, index);
      const mailer = transport(config({ retry: { attempts: 3, minDelayMs: 10, maxDelayMs: 60_000 } }));
      const retries: TransportEvents['retry'][] = [];
      mailer.on('retry', (event) => {
        retries.push(event);
        // Let the backoff sleep elapse on the fake clock.
        setImmediate(() => void vi.advanceTimersByTimeAsync(event.delayMs));
      });
      const info = await mailer.sendMail({ from: 'me@example.com', to: 'you@example.com', text: 'x' });
      expect(info.id).toBe('msg-2');
      expect(retries).toHaveLength(1);
      expect(retries[0]).toMatchObject({ code: 'RATE_LIMITED', attempt: 1, strategy: 'gmail-api' });
      expect(retries[0]!.delayMs).toBeGreaterThanOrEqual(7000);
      expect(calls).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a wait longer than maxDelayMs is not slept through: the error returns with retryAfterMs', async () => {
    reply = () => HttpResponse.json(limited.reply.body as Record<string, unknown>, { status: 429, headers: { 'Retry-After': '3600' } });
    const mailer = transport(config({ retry: { attempts: 3, minDelayMs: 10, maxDelayMs: 1000 } }));
    const err = await failure(mailer.sendMail({ from: 'me@example.com', to: 'you@example.com', text: 'x' }));
    expect(err).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 3_600_000 });
    expect(calls).toHaveLength(1);
  });
});

describe('gmail-api: requests in flight per mailbox', () => {
  /** A deliberately slow handler: each request waits at the gate until the test lets it through. */
  function gated(): { waiting: Array<() => void>; inFlight: () => number; max: () => number } {
    const waiting: Array<() => void> = [];
    let inFlight = 0;
    let max = 0;
    reply = async (call, index) => {
      inFlight++;
      max = Math.max(max, inFlight);
      await new Promise<void>((resolve) => waiting.push(resolve));
      inFlight--;
      return ok(call, index);
    };
    return { waiting, inFlight: () => inFlight, max: () => max };
  }

  async function drain(gate: ReturnType<typeof gated>, cap: number, total: number): Promise<void> {
    for (let released = 0; released < total; released++) {
      await vi.waitFor(() => expect(gate.waiting.length).toBe(Math.min(cap, total - released)));
      expect(gate.inFlight()).toBeLessThanOrEqual(cap);
      gate.waiting.shift()!();
    }
  }

  it('never has more than maxConcurrent requests in flight', async () => {
    const gate = gated();
    const mailer = transport(config({ maxConcurrent: 3 }));
    const sends = Array.from({ length: 8 }, (_, i) => mailer.sendMail({ from: 'me@example.com', to: 'you@example.com', subject: `m${i}`, text: 'x' }));
    await drain(gate, 3, 8);
    const infos = await Promise.all(sends);
    expect(gate.max()).toBe(3);
    expect(new Set(infos.map((i) => i.id)).size).toBe(8);
    expect(tokenRequests).toHaveLength(1);
  });

  it('defaults to 2, and transports of the same mailbox share the cap', async () => {
    const gate = gated();
    const cfg = config();
    const first = transport(cfg);
    const second = transport({ ...cfg });
    const sends = [first, second, first, second, first].map((m, i) =>
      m.sendMail({ from: 'me@example.com', to: 'you@example.com', subject: `s${i}`, text: 'x' }),
    );
    await drain(gate, 2, 5);
    await Promise.all(sends);
    expect(gate.max()).toBe(2);
  });
});

describe('gmail-api: verify()', () => {
  it('with gmail.send only: a token plus getProfile answered 403 insufficientPermissions counts as verified', async () => {
    const scope = fixtures.find((f) => f.id === 'gmailapi-403-insufficient-permission')!;
    profileReply = () => HttpResponse.json(scope.reply.body as Record<string, unknown>, { status: 403 });
    const mailer = transport(config());
    await expect(mailer.verify()).resolves.toBe(true);
    expect(calls.map((c) => c.kind)).toEqual(['profile']);
    expect(calls[0]!.authorization).toBe(`Bearer ${ACCESS_PREFIX}1`);
  });

  it('with a scope that may read the profile, the same 403 is OAUTH_SCOPE_DENIED', async () => {
    const scope = fixtures.find((f) => f.id === 'gmailapi-403-insufficient-permission')!;
    profileReply = () => HttpResponse.json(scope.reply.body as Record<string, unknown>, { status: 403 });
    const err = await failure(transport(config({ scopes: ['https://mail.google.com/'] })).verify());
    expect(err).toMatchObject({ code: 'OAUTH_SCOPE_DENIED', phase: 'api' });
  });

  it('reports the Gmail API not enabled', async () => {
    const disabled = fixtures.find((f) => f.id === 'gmailapi-403-access-not-configured')!;
    profileReply = () => HttpResponse.json(disabled.reply.body as Record<string, unknown>, { status: 403 });
    const err = await failure(transport(config()).verify());
    expect(err).toMatchObject({ code: 'OAUTH_INVALID_CLIENT', reason: 'accessNotConfigured' });
  });

  it('succeeds on 200 and sends nothing', async () => {
    const mailer = transport(config({ scopes: ['https://mail.google.com/'] }));
    await expect(mailer.verify()).resolves.toBe(true);
    expect(calls.map((c) => c.kind)).toEqual(['profile']);
  });

  it('a token endpoint failure surfaces as the token error (invalid_grant), without secrets', async () => {
    server.use(
      http.post(TOKEN_URL, () => HttpResponse.json({ error: 'invalid_grant', error_description: 'Token has been expired or revoked.' }, { status: 400 }), {
        once: true,
      }),
    );
    const err = await failure(transport(config()).verify());
    expect(err).toMatchObject({ code: 'OAUTH_INVALID_GRANT', retryable: false });
    expect(calls).toHaveLength(0);
  });
});

describe('gmail-api: config', () => {
  const bad: Array<[string, Record<string, unknown>, string[]]> = [
    ['plain http to a non-loopback API base', { endpoints: { gmailApi: 'http://gmail.example.com' } }, ['endpoints.gmailApi']],
    ['maxConcurrent below 1', { maxConcurrent: 0 }, ['maxConcurrent']],
    ['scopes that cannot send', { scopes: ['https://www.googleapis.com/auth/gmail.readonly'] }, ['scopes']],
    ['no credentials', { clientId: undefined, clientSecret: undefined, refreshToken: undefined }, ['clientId']],
    ['an unknown endpoint key', { endpoints: { smtp: 'https://example.com' } }, ['endpoints.smtp']],
  ];
  for (const [title, patch, paths] of bad) {
    it(`refuses ${title} with CONFIG_INVALID naming ${paths.join(', ')}, before any request`, () => {
      let thrown: unknown;
      try {
        createGmailTransport({ ...config(), ...patch } as GmailApiConfig);
      } catch (err) {
        thrown = err;
      }
      expect(isGmailTransportError(thrown)).toBe(true);
      expect(thrown).toMatchObject({ code: 'CONFIG_INVALID', phase: 'config' });
      expect((thrown as { issues: { path: string }[] }).issues.map((i) => i.path)).toEqual(expect.arrayContaining(paths));
      expectNoSecret(thrown, SECRETS);
      expect(calls).toHaveLength(0);
      expect(tokenRequests).toHaveLength(0);
    });
  }

  it('accepts an https API base and plain http to loopback', () => {
    expect(() => transport(config({ endpoints: { gmailApi: 'https://gmail-proxy.example.com/' } }))).not.toThrow();
    expect(() => transport(config({ endpoints: { gmailApi: 'http://127.0.0.1:8025', token: 'http://127.0.0.1:8025/token' } }))).not.toThrow();
  });

  it('its guide (docs/strategies/gmail-api.md) shows this config', () => {
    const block = strategyGuideBlock('gmail-api');
    expect(block).toContain("strategy: 'gmail-api'");
    for (const key of ['user', 'clientId', 'clientSecret', 'refreshToken']) expect(block).toMatch(new RegExp(`\\b${key}:`));
  });
});

describe('gmail-api as a failover route', () => {
  let smtp: RecordingServer;
  beforeAll(async () => {
    smtp = await startRecordingServer({ noAuth: true });
  });
  afterAll(() => smtp.close());

  const relayTo = (port: number): Record<string, unknown> => ({ strategy: 'relay', host: '127.0.0.1', port, smtp: { tls: { ca: [smtp.cert] } }, retry: false });

  it('takes over when the SMTP route cannot connect (ports blocked), pool options inherited and ignored', async () => {
    const dead = createNetServer();
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const deadPort = (dead.address() as AddressInfo).port;
    await new Promise<void>((resolve) => dead.close(() => resolve()));

    const mailer = transport({ strategy: 'failover', pool: true, maxConnections: 2, transports: [relayTo(deadPort), config()] } as unknown as GmailApiConfig);
    const delivered: TransportEvents['delivered'][] = [];
    mailer.on('delivered', (e) => delivered.push(e));
    const info = await mailer.sendMail({ from: 'me@example.com', to: 'you@example.com', text: 'x' });
    expect(info.id).toBe('msg-1');
    expect(delivered).toEqual([expect.objectContaining({ route: 1, strategy: 'gmail-api' })]);
  });

  it("a route's own logger and locale win over the failover's (issue 20): its retry lines go to its logger, its errors' hints are Japanese", async () => {
    const dead = createNetServer();
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const deadPort = (dead.address() as AddressInfo).port;
    await new Promise<void>((resolve) => dead.close(() => resolve()));
    const limited = fixtures.find((f) => f.id === 'gmailapi-403-ratelimitexceeded-doc')!;
    reply = () => HttpResponse.json(limited.reply.body as Record<string, unknown>, { status: 403 });
    type Line = { level: string; line: Record<string, unknown> };
    const recorder = (lines: Line[]) => ({
      debug: (line: Record<string, unknown>) => lines.push({ level: 'debug', line }),
      info: (line: Record<string, unknown>) => lines.push({ level: 'info', line }),
      warn: (line: Record<string, unknown>) => lines.push({ level: 'warn', line }),
      error: (line: Record<string, unknown>) => lines.push({ level: 'error', line }),
    });
    const parentLines: Line[] = [];
    const ownLines: Line[] = [];
    const own = config({
      logger: recorder(ownLines),
      locale: 'ja',
      retry: { attempts: 2, minDelayMs: 1, maxDelayMs: 2, maxElapsedMs: 10_000 },
    } as Partial<GmailApiConfig>);
    const mailer = transport({
      strategy: 'failover',
      logger: recorder(parentLines),
      locale: 'en',
      transports: [relayTo(deadPort), own],
    } as unknown as GmailApiConfig);
    const err = await failure(mailer.sendMail({ from: 'me@example.com', to: 'you@example.com', text: 'x' }));
    expect(calls).toHaveLength(2);
    const routeErrors = err.errors as Array<{ route: number; code: string; hint?: string }>;
    expect(routeErrors.map((e) => [e.route, e.code])).toEqual([
      [0, 'CONNECTION_FAILED'],
      [1, 'RATE_LIMITED'],
    ]);
    // Route 0 inherited the failover's English; route 1 set Japanese.
    expect(routeErrors[0]!.hint).toMatch(/^[\x20-\x7e]+$/);
    expect(routeErrors[1]!.hint).toMatch(/[\u3040-\u30ff\u4e00-\u9fff]/);
    expect(ownLines.filter((l) => l.line.event === 'retry')).toEqual([
      { level: 'info', line: expect.objectContaining({ event: 'retry', route: 1, attempt: 1, code: 'RATE_LIMITED' }) },
    ]);
    expect(parentLines.filter((l) => l.line.event === 'retry')).toEqual([]);
    // The failover's own events stay with the failover's logger.
    expect(parentLines.map((l) => l.line.event)).toContain('failover');
    expect(ownLines.map((l) => l.line.event)).not.toContain('failover');
  });

  it('when gmail-api is rate limited, the SMTP route gets the message without the Bcc header gmail-api kept', async () => {
    const limited = fixtures.find((f) => f.id === 'gmailapi-403-ratelimitexceeded-doc')!;
    reply = () => HttpResponse.json(limited.reply.body as Record<string, unknown>, { status: 403 });
    const mailer = transport({ strategy: 'failover', transports: [config(), relayTo(smtp.port)] } as unknown as GmailApiConfig);
    await mailer.sendMail({ from: 'me@example.com', to: 'you@example.com', bcc: 'hidden@example.com', subject: 'failover bcc', text: 'x' });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.raw!.toString()).toMatch(/^Bcc: hidden@example\.com\r$/m);
    const got = smtp.messages.at(-1)!;
    expect(got.parsed.subject).toBe('failover bcc');
    expect(got.envelope.to).toEqual(['you@example.com', 'hidden@example.com']);
    expect(got.raw.toString()).not.toMatch(/^Bcc:/im);
  });
});
