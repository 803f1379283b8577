import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspect } from 'node:util';
import nodemailer from 'nodemailer';
import { setupServer } from 'msw/node';
import { createGmailTransport, mapError, type FailoverRouteConfig, type GmailTransportConfig } from '../../src/index.js';
import { SMTP_REPLIES, type SmtpReplyRow } from '../fixtures/smtp-replies.js';
import { startScriptedServer, type DropPoint, type ScriptedSmtpServer, type SessionScript } from '../helpers/scripted-smtp.js';
import { replayConfig, scriptFor, secretForms, SECRETS } from '../helpers/replay.js';
import { TokenAuthority } from '../helpers/google-token.js';
import { CLIENT_SECRET, REFRESH_TOKEN, uniqueClientId } from '../helpers/oauth-fixtures.js';

const MESSAGE = { from: 'me@gmail.com', to: 'you@example.com', subject: 'Secrets', text: 'x' };
const msw = setupServer();
const authority = new TokenAuthority();
let server: ScriptedSmtpServer;
let script: SessionScript = {};

beforeAll(async () => {
  msw.listen({ onUnhandledRequest: 'error' });
  msw.use(authority.handler());
  server = await startScriptedServer({ script: () => script });
});
afterAll(async () => {
  msw.close();
  await server.close();
});

/** Every secret a config below holds, in every form it could leak in (access tokens included). */
function forbidden(): string[] {
  const oauth = [CLIENT_SECRET, REFRESH_TOKEN, ...authority.issued];
  return [...secretForms(), ...oauth, ...oauth.map((s) => Buffer.from(s).toString('base64'))];
}

/** The row's strategy, with credentials wherever the strategy can hold some. */
function configWithCredentials(strategy: SmtpReplyRow['strategy']): GmailTransportConfig {
  const retry = { attempts: 2, minDelayMs: 1, maxDelayMs: 2 };
  switch (strategy) {
    case 'oauth2':
      return {
        strategy,
        user: SECRETS.user,
        clientId: uniqueClientId(),
        clientSecret: CLIENT_SECRET,
        refreshToken: REFRESH_TOKEN,
        smtp: { host: '127.0.0.1', port: server.port, secure: true, tls: { ca: [server.cert] } },
        retry,
      };
    case 'ip-relay':
      return replayConfig(strategy, server, { retry, auth: { user: SECRETS.user, appPassword: SECRETS.appPassword } });
    case 'relay':
      return replayConfig(strategy, server, { retry, auth: { user: 'relay-user', pass: SECRETS.relayPassword } });
    case 'app-password':
      return replayConfig(strategy, server, { retry });
  }
}

/** Sends once and returns the error plus every event payload, as the text a log would hold. */
async function failAndCollect(config: GmailTransportConfig): Promise<{ err: unknown; text: string }> {
  const mailer = createGmailTransport(config);
  const events: unknown[] = [];
  for (const name of ['retry', 'warning', 'failover', 'delivered', 'token'] as const) mailer.on(name, (payload) => events.push(payload));
  const err = await mailer.sendMail(MESSAGE).catch((e: unknown) => e);
  const verifyErr = await mailer.verify().catch((e: unknown) => e);
  mailer.close();
  const text = [err, verifyErr].map((e) => `${String(e)}\n${JSON.stringify(e)}\n${inspect(e, { depth: Infinity, showHidden: true })}`).join('\n');
  return { err, text: `${text}\n${JSON.stringify(events)}\n${inspect(events, { depth: Infinity })}` };
}

describe('no secret in any error, across the whole reply table', () => {
  it.each(SMTP_REPLIES.map((row) => [row.id, row.strategy, row] as const))('%s (%s)', async (_id, strategy, row) => {
    script = scriptFor(row.phase, row.reply);
    const { err, text } = await failAndCollect(configWithCredentials(strategy));
    expect(err).toMatchObject({ code: row.expected.code });
    for (const secret of forbidden()) expect(text).not.toContain(secret);
  });

  it.each<DropPoint>(['before-greeting', 'after-ehlo', 'after-auth', 'mid-data', 'after-dot'])('nor when the connection drops %s', async (drop) => {
    script = { drop, dropAfterBytes: 1 };
    // A small message is handed to the socket whole before the drop is noticed: mid-DATA may
    // end either way, and both are right (the dot may or may not have left).
    const expected = drop === 'after-dot' ? ['DELIVERY_UNCERTAIN'] : drop === 'mid-data' ? ['CONNECTION_FAILED', 'DELIVERY_UNCERTAIN'] : ['CONNECTION_FAILED'];
    for (const strategy of ['app-password', 'relay', 'oauth2'] as const) {
      const { err, text } = await failAndCollect(configWithCredentials(strategy));
      expect(expected).toContain((err as { code?: string }).code);
      for (const secret of forbidden()) expect(text).not.toContain(secret);
    }
  });

  it('nor in a failover that ran out of routes', async () => {
    script = { replies: { dot: '550 5.4.5 Daily user sending quota exceeded. s1-gsmtp' } };
    const { err, text } = await failAndCollect({
      strategy: 'failover',
      transports: [configWithCredentials('oauth2'), configWithCredentials('app-password'), configWithCredentials('relay')] as FailoverRouteConfig[],
    });
    expect(err).toMatchObject({ code: 'QUOTA_EXCEEDED', errors: [{ route: 0 }, { route: 1 }, { route: 2 }] });
    for (const secret of forbidden()) expect(text).not.toContain(secret);
  });

  it("nor when mapError classifies the user's own nodemailer errors (its cause included)", async () => {
    script = {
      replies: {
        auth: '535-5.7.8 Username and Password not accepted. For more information, go to\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials x-gsmtp',
      },
    };
    const plain = nodemailer.createTransport({
      host: '127.0.0.1',
      port: server.port,
      secure: true,
      tls: { ca: [server.cert] },
      auth: { user: 'relay-user', pass: SECRETS.relayPassword },
    });
    const raw = await plain.sendMail(MESSAGE).catch((e: unknown) => e);
    plain.close();
    const err = mapError(raw, { strategy: 'relay' });
    expect(err.code).toBe('AUTH_INVALID_CREDENTIALS');
    const text = `${String(err)} ${JSON.stringify(err)} ${inspect(err, { depth: Infinity, showHidden: true })}`;
    for (const secret of forbidden()) expect(text).not.toContain(secret);
  });
});
