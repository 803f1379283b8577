import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { setupServer } from 'msw/node';
import { http, HttpResponse } from 'msw';
import { createGmailTransport } from '../../src/index.js';
import { CLIENT_SECRET, REFRESH_TOKEN, uniqueClientId } from '../helpers/oauth-fixtures.js';
import { sendFailure } from '../helpers/send-failure.js';

const API = 'https://gmail.googleapis.com';
const DAY_MS = 24 * 60 * 60 * 1000;
const sends: string[] = [];
let reply: () => Response = () => HttpResponse.json({ id: 'm', threadId: 't' });

const msw = setupServer(
  http.post('https://oauth2.googleapis.com/token', () => HttpResponse.json({ access_token: 'FAKE-ACCESS-b0d6', expires_in: 3599, token_type: 'Bearer' })),
  http.post(`${API}/gmail/v1/users/:user/messages/send`, ({ params }) => {
    sends.push(String(params.user));
    return reply();
  }),
);
beforeAll(() => msw.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  vi.useRealTimers();
  reply = () => HttpResponse.json({ id: 'm', threadId: 't' });
});
afterAll(() => msw.close());

let serial = 0;
const mailbox = () => `api-budget-${process.pid}-${++serial}@example.com`;

function gmailApi(user: string, budget?: Record<string, unknown>) {
  return createGmailTransport({
    strategy: 'gmail-api',
    user,
    clientId: uniqueClientId(),
    clientSecret: CLIENT_SECRET,
    refreshToken: REFRESH_TOKEN,
    retry: false,
    ...(budget ? { budget } : {}),
  });
}

const googleError = (status: number, reason: string, message: string) =>
  HttpResponse.json({ error: { code: status, message, errors: [{ domain: 'usageLimits', reason, message }] } }, { status });

describe('sending budget on the Gmail API route', () => {
  it('refuses the N+1th message before any request', async () => {
    const user = mailbox();
    const mailer = gmailApi(user, { messagesPerDay: 2 });
    for (let i = 0; i < 2; i++) await mailer.sendMail({ from: user, to: 'you@example.com', text: 'x' });
    const err = await sendFailure(mailer.sendMail({ from: user, to: 'you@example.com', text: 'x' }));
    expect(err).toMatchObject({ code: 'QUOTA_EXCEEDED', phase: 'budget', retryable: true, strategy: 'gmail-api' });
    expect(sends.filter((u) => u === user)).toHaveLength(2);
    mailer.close();
  });

  it("shares the mailbox's count with its SMTP transports: the Gmail API and SMTP limits are one", async () => {
    const user = mailbox();
    const api = gmailApi(user, { messagesPerDay: 1 });
    await api.sendMail({ from: user, to: 'you@example.com', text: 'x' });
    const smtp = createGmailTransport({
      strategy: 'app-password',
      user,
      appPassword: 'fakeapibudgetpwq',
      smtp: { host: '127.0.0.1', port: 9, secure: true },
      budget: { messagesPerDay: 1 },
      retry: false,
    });
    // Refused by the budget, before the (unreachable) server is tried.
    expect((await sendFailure(smtp.sendMail({ from: user, to: 'you@example.com', text: 'x' }))).phase).toBe('budget');
    api.close();
    smtp.close();
  });

  it("Google's 429 for the user's sending limit marks the mailbox spent until the time Google gives", async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const t0 = Date.parse('2026-03-02T09:00:00Z');
    vi.setSystemTime(t0);
    const user = mailbox();
    const until = new Date(t0 + 5 * 60 * 60_000).toISOString();
    reply = () => HttpResponse.json({ error: { code: 429, message: `User-rate limit exceeded.  Retry after ${until} (Mail sending)` } }, { status: 429 });
    const mailer = gmailApi(user);
    expect(await sendFailure(mailer.sendMail({ from: user, to: 'you@example.com', text: 'x' }))).toMatchObject({ code: 'QUOTA_EXCEEDED', phase: 'api' });
    const err = await sendFailure(mailer.sendMail({ from: user, to: 'you@example.com', text: 'x' }));
    expect(err).toMatchObject({ code: 'QUOTA_EXCEEDED', phase: 'budget', retryAfterMs: 5 * 60 * 60_000 });
    expect(sends.filter((u) => u === user)).toHaveLength(1);
    mailer.close();
  });

  it("dailyLimitExceeded for the user's sending marks the mailbox spent; the project's API quota does not", async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const user = mailbox();
    const mailer = gmailApi(user);
    reply = () => googleError(403, 'dailyLimitExceeded', 'Daily Limit Exceeded');
    expect(await sendFailure(mailer.sendMail({ from: user, to: 'you@example.com', text: 'x' }))).toMatchObject({
      code: 'QUOTA_EXCEEDED',
      phase: 'api',
      reason: 'dailyLimitExceeded',
    });
    reply = () => googleError(403, 'dailyLimitExceeded', 'Daily user sending limit exceeded');
    expect(await sendFailure(mailer.sendMail({ from: user, to: 'you@example.com', text: 'x' }))).toMatchObject({ code: 'QUOTA_EXCEEDED', phase: 'api' });
    const err = await sendFailure(mailer.sendMail({ from: user, to: 'you@example.com', text: 'x' }));
    expect(err).toMatchObject({ code: 'QUOTA_EXCEEDED', phase: 'budget', retryAfterMs: DAY_MS });
    expect(sends.filter((u) => u === user)).toHaveLength(2);
    mailer.close();
  });
});
