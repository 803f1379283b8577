import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupServer } from 'msw/node';
import { http, HttpResponse } from 'msw';
import type { SendMailOptions } from 'nodemailer';
import { createGmailTransport, hintFor, type GmailTransportConfig, type GmailTransportError } from '../../src/index.js';
import { startRecordingServer, type RecordingServer } from '../helpers/smtp-server.js';
import { expectNoSecret } from '../contract/strategy.js';

// Issue 19, item 4: the message's own mistakes are MESSAGE_INVALID, found before any network.
const APP_PASSWORD = 'fakemsgcheckqzxw';
const RELAY_PASSWORD = 'FAKE-MSG-CHECK-RELAY-3e1f';

describe('issue 19: MESSAGE_INVALID before any connection', () => {
  let server: RecordingServer;
  const appPassword = (): GmailTransportConfig => ({
    strategy: 'app-password',
    user: 'me@gmail.com',
    appPassword: APP_PASSWORD,
    smtp: { host: '127.0.0.1', port: server.port, secure: true, tls: { ca: [server.cert] } },
  });
  const relay = (): GmailTransportConfig => ({
    strategy: 'relay',
    host: '127.0.0.1',
    port: server.port,
    secure: true,
    auth: { user: 'relay', pass: RELAY_PASSWORD },
    smtp: { tls: { ca: [server.cert] } },
  });
  beforeAll(async () => {
    server = await startRecordingServer({ secure: true });
  });
  afterAll(() => server.close());

  async function refused(config: GmailTransportConfig, message: SendMailOptions): Promise<GmailTransportError> {
    const mailer = createGmailTransport(config);
    const connections = server.connections;
    const err = (await mailer.sendMail(message).then(
      () => undefined,
      (e: unknown) => e,
    )) as GmailTransportError;
    mailer.close();
    // smtp-server counts a connection 100 ms after accepting it: wait that long before asserting none came.
    await new Promise((r) => setTimeout(r, 150));
    expect(server.connections, 'no connection may be opened').toBe(connections);
    expect(err).toBeDefined();
    expect(err).toMatchObject({ code: 'MESSAGE_INVALID', phase: 'message', retryable: false });
    expect(err.hint).toBe(hintFor('MESSAGE_INVALID'));
    expectNoSecret(err, [APP_PASSWORD, RELAY_PASSWORD]);
    return err;
  }

  it.each([
    ['no recipient at all', { from: 'me@gmail.com', subject: 'x', text: 'x' }, /has no recipient: to, cc and bcc are all empty/],
    ['to: "not an address"', { from: 'me@gmail.com', to: 'not an address', text: 'x' }, /to is not an e-mail address \(name@domain\)/],
    ['an empty to', { from: 'me@gmail.com', to: '', text: 'x' }, /has no recipient/],
    ['one good and one bad entry in a list', { from: 'me@gmail.com', to: 'Bob <bob@example.com>, nobody', text: 'x' }, /to\[1\] is not an e-mail address/],
    [
      'an address object without a domain',
      { from: 'me@gmail.com', to: 'you@example.com', cc: [{ name: 'Ann', address: 'ann@' }], text: 'x' },
      /cc is not an e-mail address/,
    ],
    ['a bcc without @', { from: 'me@gmail.com', to: 'you@example.com', bcc: 'auditor', text: 'x' }, /bcc is not an e-mail address/],
    ['a from that does not parse', { from: 'the office', to: 'you@example.com', text: 'x' }, /from is not an e-mail address/],
    [
      'an envelope without recipients',
      { from: 'me@gmail.com', to: 'you@example.com', envelope: { from: 'me@gmail.com', to: [] }, text: 'x' },
      /envelope\.to has no recipient/,
    ],
  ] as const)('%s', async (_title, message, expected) => {
    const err = await refused(appPassword(), message as SendMailOptions);
    expect(err.message).toMatch(/^The message is invalid \(found before connecting\): /);
    expect(err.message).toMatch(expected);
  });

  it('more recipients than smtp.gmail.com takes per message (100), with no connection attempt at all', async () => {
    // The strategy's own endpoint: were the check missing, the send would look smtp.gmail.com up.
    const mailer = createGmailTransport({ strategy: 'app-password', user: 'me@gmail.com', appPassword: APP_PASSWORD, retry: false });
    const to = Array.from({ length: 101 }, (_, i) => `r${i}@example.com`);
    const err = (await mailer.sendMail({ from: 'me@gmail.com', to, text: 'x' }).catch((e: unknown) => e)) as GmailTransportError;
    mailer.close();
    expect(err).toMatchObject({ code: 'MESSAGE_INVALID', phase: 'message', retryable: false });
    expect(err.message).toMatch(/has 101 recipients, more than the 100 per message this route takes/);
  });

  it("more recipients than the message's own maxRecipients (nodemailer's check) is MESSAGE_INVALID too", async () => {
    const err = await refused(relay(), { from: 'me@example.com', to: ['a@example.com', 'b@example.com'], maxRecipients: 1, text: 'x' });
    expect(err.message).toMatch(/2 recipients/);
  });

  it('sends valid messages as before: address objects, groups, display names, internationalised addresses, 100 recipients', async () => {
    const mailer = createGmailTransport(appPassword());
    await mailer.sendMail({
      from: '"Me" <me@gmail.com>',
      to: [{ name: 'You', address: 'you@example.com' }, 'Team: a@example.com, b@example.com;'],
      cc: 'José <josé@exämple.jp>',
      text: 'x',
    });
    await mailer.sendMail({ from: 'me@gmail.com', to: Array.from({ length: 100 }, (_, i) => `r${i}@example.com`), text: 'x' });
    mailer.close();
    expect(server.messages.at(-2)!.envelope.to).toEqual(['you@example.com', 'a@example.com', 'b@example.com', 'josé@exämple.jp']);
    expect(server.messages.at(-1)!.envelope.to).toHaveLength(100);
  });

  it('a relay without a documented limit takes more than 100 recipients', async () => {
    const mailer = createGmailTransport(relay());
    await mailer.sendMail({ from: 'me@example.com', to: Array.from({ length: 120 }, (_, i) => `r${i}@example.com`), text: 'x' });
    mailer.close();
    expect(server.messages.at(-1)!.envelope.to).toHaveLength(120);
  });
});

describe('issue 19: MESSAGE_INVALID on the Gmail API and a failover, before any request', () => {
  const msw = setupServer();
  let requests = 0;
  beforeAll(() => {
    msw.listen({ onUnhandledRequest: 'error' });
    msw.use(
      http.all(/.*/, () => {
        requests++;
        return HttpResponse.json({ error: 'unexpected' }, { status: 500 });
      }),
    );
  });
  afterAll(() => msw.close());

  it('gmail-api: no request to the token endpoint or Gmail', async () => {
    const mailer = createGmailTransport({
      strategy: 'gmail-api',
      user: 'me@gmail.com',
      clientId: 'msgcheck.apps.googleusercontent.com',
      clientSecret: 'FAKE-SECRET-msgcheck',
      refreshToken: '1//FAKE-REFRESH-msgcheck',
    });
    const err = (await mailer.sendMail({ from: 'me@gmail.com', to: 'nobody', text: 'x' }).catch((e: unknown) => e)) as GmailTransportError;
    mailer.close();
    expect(err).toMatchObject({ code: 'MESSAGE_INVALID', phase: 'message', retryable: false, strategy: 'gmail-api' });
    expect(requests).toBe(0);
  });

  it('failover: the smallest limit of its routes applies', async () => {
    const mailer = createGmailTransport({
      strategy: 'failover',
      transports: [
        { strategy: 'relay', host: '127.0.0.1', port: 1, secure: true },
        { strategy: 'app-password', user: 'me@gmail.com', appPassword: APP_PASSWORD },
      ],
    });
    const err = (await mailer
      .sendMail({ from: 'me@gmail.com', to: Array.from({ length: 150 }, (_, i) => `r${i}@example.com`), text: 'x' })
      .catch((e: unknown) => e)) as GmailTransportError;
    mailer.close();
    expect(err).toMatchObject({ code: 'MESSAGE_INVALID', phase: 'message', strategy: 'failover' });
    expect(err.message).toMatch(/more than the 100 per message/);
  });
});
