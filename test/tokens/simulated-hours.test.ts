import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { setupServer } from 'msw/node';
import { http, HttpResponse } from 'msw';
import { createTransportWith } from '../../src/transport/create.js';
import type { GmailApiConfig } from '../../src/index.js';
import { DEFAULT_EAGER_REFRESH_MS } from '../../src/tokens/oauth-config.js';
import { TokenAuthority } from '../helpers/google-token.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { CLIENT_SECRET, REFRESH_TOKEN, uniqueClientId } from '../helpers/oauth-fixtures.js';

const USER = 'me@gmail.com';
const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

const clock = new ManualClock();
let authority = new TokenAuthority();
/** Token → the clock's time when the endpoint issued it. */
const issuedAt = new Map<string, number>();
/** Each send: the clock's time and the bearer token it carried. */
const sends: { at: number; token: string }[] = [];

const msw = setupServer();
beforeAll(() => msw.listen({ onUnhandledRequest: 'error' }));
afterAll(() => msw.close());
beforeEach(() => {
  authority = new TokenAuthority();
  authority.behaviour = { kind: 'ok', expiresInS: 3600 };
  issuedAt.clear();
  sends.length = 0;
  msw.resetHandlers(
    http.post('https://oauth2.googleapis.com/token', async ({ request }) => {
      const result = await authority.answer(await request.text());
      if (result === 'reset') return HttpResponse.error();
      const token = (result.body as { access_token?: string }).access_token;
      if (token) issuedAt.set(token, clock.now());
      return HttpResponse.json(result.body as Record<string, unknown>, { status: result.status });
    }),
    http.post('https://gmail.googleapis.com/gmail/v1/users/:user/messages/send', ({ request }) => {
      const token = request.headers.get('authorization')?.replace(/^Bearer /, '') ?? '';
      sends.push({ at: clock.now(), token });
      const issued = issuedAt.get(token);
      // Google refuses a token past its hour.
      if (issued === undefined || clock.now() >= issued + HOUR_MS)
        return HttpResponse.json({ error: { code: 401, message: 'Invalid Credentials', status: 'UNAUTHENTICATED' } }, { status: 401 });
      return HttpResponse.json({ id: `m${sends.length}`, threadId: 't', labelIds: ['SENT'] });
    }),
  );
});

describe('tokens over simulated hours (injected clock, Google-length tokens, default eagerRefreshMs)', () => {
  it('a send every minute for three hours: each token is refreshed eagerRefreshMs before its hour ends, none is ever used late', async () => {
    const config = {
      strategy: 'gmail-api',
      user: USER,
      clientId: uniqueClientId(),
      clientSecret: CLIENT_SECRET,
      refreshToken: REFRESH_TOKEN,
      retry: false,
      budget: false,
    } as GmailApiConfig;
    const mailer = createTransportWith(config, undefined, { clock });
    const tokenEvents: number[] = [];
    mailer.on('token', (e) => tokenEvents.push(e.expiresAt));
    const start = clock.now();
    for (let minute = 0; minute < 180; minute++) {
      clock.t = start + minute * MINUTE_MS;
      await mailer.sendMail({ from: USER, to: 'you@example.com', subject: `minute ${minute}`, text: 'x' });
    }
    mailer.close();

    expect(sends).toHaveLength(180);
    // A fresh token at 0, then one each time less than eagerRefreshMs (5 min) was left: minutes 55, 110, 165.
    const refreshMinutes = [...issuedAt.values()].map((t) => (t - start) / MINUTE_MS);
    expect(refreshMinutes).toEqual([0, 55, 110, 165]);
    expect(authority.requests).toHaveLength(4);
    // Expiry as the token event reports it is on the same clock.
    expect(tokenEvents).toEqual(refreshMinutes.map((m) => start + m * MINUTE_MS + HOUR_MS));
    for (const send of sends) {
      const issued = issuedAt.get(send.token)!;
      expect(send.at - issued).toBeLessThan(HOUR_MS - DEFAULT_EAGER_REFRESH_MS + 1);
    }
  });
});
