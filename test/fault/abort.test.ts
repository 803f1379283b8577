/**
 * `sendMail({ signal })`: an abort ends the send at once with a typed error, never as a
 * delivery the caller is told did not happen. Before the final dot nothing can have been
 * accepted (ABORTED, and the server counts no delivery); after it, the server may have taken
 * the message (DELIVERY_UNCERTAIN). The sockets are real; the socket timeouts are a minute, so
 * a send that ignored its signal would outlast the test's own timeout.
 */
import { getEventListeners } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { addAbortSignal, PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { setupServer } from 'msw/node';
import { http, HttpResponse } from 'msw';
import { createGmailTransport, isGmailTransportError, type GmailTransportConfig, type TransportEvents } from '../../src/index.js';
import { PASS, reply421, stall, type Fault } from '../helpers/fault-proxy.js';
import { expectNoSecretIn, faultMessage, startFaultHarness, startScenarioGuard, type FaultHarness } from '../helpers/fault-harness.js';
import { startTokenEndpoint, type BreakableTokenEndpoint } from '../helpers/fault-token-endpoint.js';
import { CLIENT_SECRET, REFRESH_TOKEN, oauth2Credentials } from '../helpers/oauth-fixtures.js';
import { SECRETS } from '../helpers/replay.js';

const ALL_SECRETS = [CLIENT_SECRET, REFRESH_TOKEN, SECRETS.appPassword];
const SLOW = { socketTimeoutMs: 60_000, greetingTimeoutMs: 60_000, connectionTimeoutMs: 60_000 };

let harnesses: FaultHarness[] = [];
let endpoints: BreakableTokenEndpoint[] = [];
let guard: ReturnType<typeof startScenarioGuard> | undefined;

afterEach(async () => {
  guard?.stop();
  guard = undefined;
  await Promise.all([...harnesses.map((h) => h.close()), ...endpoints.map((e) => e.close())]);
  harnesses = [];
  endpoints = [];
});

async function harness(plan: Fault | ((n: number) => Fault)): Promise<FaultHarness> {
  const h = await startFaultHarness({ plan, server: { checkAuth: (auth) => auth.password === SECRETS.appPassword } });
  harnesses.push(h);
  guard = startScenarioGuard();
  return h;
}

function appPassword(h: FaultHarness, extra: Record<string, unknown> = {}): GmailTransportConfig {
  return { strategy: 'app-password', user: SECRETS.user, appPassword: SECRETS.appPassword, smtp: h.smtp(SLOW), ...extra } as GmailTransportConfig;
}

/** Resolves once the proxy has seen `count` connections reach their planned fault. */
async function faultReached(h: FaultHarness, count = 1): Promise<void> {
  while (h.proxy.connections.filter((c) => c.faulted).length < count) await new Promise((resolve) => setTimeout(resolve, 5));
}

async function rejection(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isGmailTransportError(err), `expected a GmailTransportError, got ${String(err)}`).toBe(true);
  expectNoSecretIn(err, ALL_SECRETS);
  return err as Record<string, unknown>;
}

describe('sendMail({ signal }) over SMTP', () => {
  it('the transport says it supports AbortSignal, as nodemailer asks of a transport that honours it', async () => {
    const h = await harness(PASS);
    const mailer = createGmailTransport(appPassword(h));
    expect((mailer.transporter as { supportsAbortSignal?: boolean }).supportsAbortSignal).toBe(true);
    await guard!.finish([mailer], [h.proxy]);
  });

  it('an already aborted signal: ABORTED with its reason as cause, and no connection is made', async () => {
    const h = await harness(PASS);
    const mailer = createGmailTransport(appPassword(h));
    const reason = new Error('user navigated away');
    const err = await rejection(mailer.sendMail(faultMessage('pre', { signal: AbortSignal.abort(reason) })));
    expect(err).toMatchObject({ code: 'ABORTED', retryable: false });
    expect(err.cause).toBe(reason);
    expect(h.proxy.connections).toHaveLength(0);
    await guard!.finish([mailer], [h.proxy]);
  });

  it('aborted while the server stalls before the body: ABORTED, nothing delivered, the connection closed', async () => {
    const h = await harness(stall('after-ehlo'));
    const mailer = createGmailTransport(appPassword(h));
    const controller = new AbortController();
    const sending = rejection(mailer.sendMail(faultMessage('a1', { signal: controller.signal })));
    await faultReached(h);
    controller.abort();
    const err = await sending;
    expect(err).toMatchObject({ code: 'ABORTED', retryable: false, strategy: 'app-password' });
    expect(err.message).toMatch(/cancelled by its AbortSignal/);
    expect(String(err.hint)).toMatch(/nothing was delivered/);
    expect(h.delivered()).toEqual([]);
    await guard!.finish([mailer], [h.proxy]);
  });

  it('aborted after the final dot, before the reply: DELIVERY_UNCERTAIN (the server has it), never ABORTED', async () => {
    const h = await harness(stall('dot-reply'));
    const mailer = createGmailTransport(appPassword(h));
    const controller = new AbortController();
    const sending = rejection(mailer.sendMail(faultMessage('a2', { signal: controller.signal })));
    await faultReached(h);
    controller.abort();
    const err = await sending;
    expect(err).toMatchObject({ code: 'DELIVERY_UNCERTAIN', retryable: false, phase: 'data' });
    expect(err.messageId).toEqual(expect.any(String));
    expect(String(err.hint)).toMatch(/aborted by its AbortSignal/);
    expect(h.delivered()).toEqual(['a2']);
    await guard!.finish([mailer], [h.proxy]);
  });

  it('pooled: a queued message aborted leaves the queue at once; the one being delivered goes on', async () => {
    // One connection: the first message holds it (the server stalls its final reply), the second waits.
    const h = await harness((n) => (n === 0 ? stall('dot-reply') : PASS));
    const mailer = createGmailTransport(appPassword(h, { pool: true, maxConnections: 1 }));
    const first = new AbortController();
    const second = new AbortController();
    const sendingFirst = rejection(mailer.sendMail(faultMessage('p1', { signal: first.signal })));
    const sendingSecond = rejection(mailer.sendMail(faultMessage('p2', { signal: second.signal })));
    await faultReached(h);
    second.abort();
    expect(await sendingSecond).toMatchObject({ code: 'ABORTED', retryable: false });
    expect(h.proxy.connections).toHaveLength(1);
    first.abort();
    expect(await sendingFirst).toMatchObject({ code: 'DELIVERY_UNCERTAIN' });
    expect(h.delivered()).toEqual(['p1']);
    // The pool still works after both aborts.
    await mailer.sendMail(faultMessage('p3'));
    expect(h.delivered()).toEqual(['p1', 'p3']);
    await guard!.finish([mailer], [h.proxy]);
  });

  it('aborted during the wait before a retry: ABORTED at once, no further attempt, no timer left', async () => {
    const h = await harness((n) => (n === 0 ? reply421('mail') : PASS));
    const mailer = createGmailTransport(appPassword(h, { retry: { attempts: 3, minDelayMs: 60_000, maxDelayMs: 60_000, maxElapsedMs: 300_000 } }));
    const controller = new AbortController();
    const retries: TransportEvents['retry'][] = [];
    mailer.on('retry', (e) => {
      retries.push(e);
      // After the wait has started (the event comes just before it).
      setImmediate(() => controller.abort());
    });
    const err = await rejection(mailer.sendMail(faultMessage('r1', { signal: controller.signal })));
    expect(err).toMatchObject({ code: 'ABORTED', retryable: false });
    expect(retries).toHaveLength(1);
    expect(h.proxy.connections).toHaveLength(1);
    expect(h.delivered()).toEqual([]);
    // finish() fails on a timer still pending (the minute-long wait must have been cleared).
    await guard!.finish([mailer], [h.proxy]);
  });

  it('a failover stops at an aborted route: no failover to the next one', async () => {
    const stalled = await harness(stall('after-ehlo'));
    const spare = await startFaultHarness({ plan: PASS, server: { checkAuth: () => true } });
    harnesses.push(spare);
    const mailer = createGmailTransport({ strategy: 'failover', transports: [appPassword(stalled), appPassword(spare)] } as GmailTransportConfig);
    const failovers: unknown[] = [];
    mailer.on('failover', (e) => failovers.push(e));
    const controller = new AbortController();
    const sending = rejection(mailer.sendMail(faultMessage('f1', { signal: controller.signal })));
    await faultReached(stalled);
    controller.abort();
    expect(await sending).toMatchObject({ code: 'ABORTED' });
    expect(failovers).toEqual([]);
    expect(spare.proxy.connections).toHaveLength(0);
    await guard!.finish([mailer], [stalled.proxy, spare.proxy]);
  });
});

describe('sendMail({ signal }) through the Gmail API', () => {
  const API = 'https://gmail.example.test';
  const msw = setupServer();
  let apiRequests = 0;
  let bodyReceived: () => void = () => undefined;

  function gmailApi(tokenUrl: string): GmailTransportConfig {
    return { ...oauth2Credentials(SECRETS.user, tokenUrl), strategy: 'gmail-api', endpoints: { token: tokenUrl, gmailApi: API } } as GmailTransportConfig;
  }

  async function tokenEndpoint(): Promise<BreakableTokenEndpoint> {
    const endpoint = await startTokenEndpoint();
    endpoints.push(endpoint);
    return endpoint;
  }

  it('aborted while the token request hangs: ABORTED, and Gmail is never called', async () => {
    msw.listen({ onUnhandledRequest: 'bypass' });
    try {
      apiRequests = 0;
      msw.resetHandlers(http.post(`${API}/gmail/v1/users/:user/messages/send`, () => void apiRequests++));
      const tokens = await tokenEndpoint();
      tokens.answer = () => ({ kind: 'hang' });
      const mailer = createGmailTransport(gmailApi(tokens.url));
      const controller = new AbortController();
      const sending = rejection(mailer.sendMail(faultMessage('g1', { signal: controller.signal })));
      await tokens.nextRequest();
      controller.abort();
      const err = await sending;
      expect(err).toMatchObject({ code: 'ABORTED', retryable: false, strategy: 'gmail-api' });
      expect(apiRequests).toBe(0);
      tokens.releaseHeld();
      mailer.close();
    } finally {
      msw.close();
    }
  });

  it('aborted after Gmail received the whole request, before it answered: DELIVERY_UNCERTAIN', async () => {
    msw.listen({ onUnhandledRequest: 'bypass' });
    try {
      const received = new Promise<void>((resolve) => (bodyReceived = resolve));
      msw.resetHandlers(
        http.post(`${API}/gmail/v1/users/:user/messages/send`, async ({ request }) => {
          await request.arrayBuffer();
          bodyReceived();
          // Gmail took the message and answers only after the client gave up (too late).
          await new Promise<void>((resolve) => request.signal.addEventListener('abort', () => resolve(), { once: true }));
          return HttpResponse.json({ id: 'late' });
        }),
      );
      const tokens = await tokenEndpoint();
      const mailer = createGmailTransport(gmailApi(tokens.url));
      const controller = new AbortController();
      const sending = rejection(mailer.sendMail(faultMessage('g2', { signal: controller.signal })));
      await received;
      controller.abort();
      const err = await sending;
      expect(err).toMatchObject({ code: 'DELIVERY_UNCERTAIN', retryable: false, phase: 'api', strategy: 'gmail-api' });
      mailer.close();
    } finally {
      msw.close();
    }
  });

  it('aborted while waiting for the mailbox slot (maxConcurrent): ABORTED at once, and its request is never made', async () => {
    msw.listen({ onUnhandledRequest: 'bypass' });
    try {
      const ids: string[] = [];
      const firstReceived = new Promise<void>((resolve) => (bodyReceived = resolve));
      msw.resetHandlers(
        http.post(`${API}/gmail/v1/users/:user/messages/send`, async ({ request }) => {
          ids.push(String(request.headers.get('content-length')));
          await request.arrayBuffer();
          bodyReceived();
          await new Promise<void>((resolve) => request.signal.addEventListener('abort', () => resolve(), { once: true }));
          return HttpResponse.json({ id: 'late' });
        }),
      );
      const tokens = await tokenEndpoint();
      const mailer = createGmailTransport({ ...gmailApi(tokens.url), maxConcurrent: 1 } as GmailTransportConfig);
      const first = new AbortController();
      const second = new AbortController();
      const sendingFirst = rejection(mailer.sendMail(faultMessage('s1', { signal: first.signal })));
      await firstReceived;
      const sendingSecond = rejection(mailer.sendMail(faultMessage('s2', { signal: second.signal })));
      // Let the second send get its (cached) token and queue for the slot.
      await new Promise((resolve) => setTimeout(resolve, 50));
      second.abort();
      expect(await sendingSecond).toMatchObject({ code: 'ABORTED', strategy: 'gmail-api' });
      first.abort();
      expect(await sendingFirst).toMatchObject({ code: 'DELIVERY_UNCERTAIN' });
      // The slot freed by the first request went to the aborted second, which gave it away unused.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(ids).toHaveLength(1);
      mailer.close();
    } finally {
      msw.close();
    }
  });
});

describe("an abort that is not the caller's", () => {
  it('a content stream ended by another signal fails the send, but not as ABORTED', async () => {
    const h = await harness(PASS);
    const mailer = createGmailTransport(appPassword(h, { retry: false }));
    const elsewhere = new AbortController();
    const body = addAbortSignal(elsewhere.signal, new PassThrough());
    body.write('the first part of a report\n');
    const sending = rejection(mailer.sendMail(faultMessage('stream-aborted', { text: body })));
    // Aborted while the message is being sent, its content still open.
    setTimeout(() => elsewhere.abort(new Error('report generation cancelled')), 200);
    const err = await sending;
    expect(err.code).not.toBe('ABORTED');
    expect(err).toMatchObject({ retryable: false });
    expect(h.delivered()).toEqual([]);
    await guard!.finish([mailer], [h.proxy]);
  });
});

describe('one signal reused across many sends', () => {
  // An application often passes one long-lived signal (a request's, a worker's shutdown signal)
  // to every send. Each send must take its abort listener off when it ends: one left behind per
  // send piles up on the signal (until a GC, at best) and ends in a MaxListenersExceededWarning.
  const SENDS = 30;

  it('over SMTP (pooled): no abort listener is left on the signal', async () => {
    const h = await harness(PASS);
    const mailer = createGmailTransport(appPassword(h, { pool: true, maxConnections: 2 }));
    const controller = new AbortController();
    for (let i = 0; i < SENDS; i++) await mailer.sendMail(faultMessage(`reuse-${i}`, { signal: controller.signal }));
    expect(h.delivered()).toHaveLength(SENDS);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    await guard!.finish([mailer], [h.proxy]);
  });

  it('through the Gmail API (Node fetch against a real socket): no abort listener is left on the signal', async () => {
    const tokens = await startTokenEndpoint();
    endpoints.push(tokens);
    let sent = 0;
    const api = createServer((req, res) => {
      req.resume();
      req.once('end', () =>
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: `m${++sent}`, threadId: 't', labelIds: ['SENT'] })),
      );
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    try {
      const gmailApi = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
      const mailer = createGmailTransport({
        ...oauth2Credentials(SECRETS.user, tokens.url),
        strategy: 'gmail-api',
        endpoints: { token: tokens.url, gmailApi },
      } as GmailTransportConfig);
      const controller = new AbortController();
      for (let i = 0; i < SENDS; i++) await mailer.sendMail(faultMessage(`api-reuse-${i}`, { signal: controller.signal }));
      expect(sent).toBe(SENDS);
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
      mailer.close();
    } finally {
      api.closeAllConnections();
      await new Promise<void>((resolve) => api.close(() => resolve()));
    }
  });
});
