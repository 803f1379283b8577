import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspect } from 'node:util';
import nodemailer from 'nodemailer';
import { createGmailTransport, isGmailTransportError, mapError, type GmailTransportError } from '../../src/index.js';
import { SMTP_REPLIES } from '../fixtures/smtp-replies.js';
import { startScriptedServer, type ScriptedSmtpServer, type SessionScript } from '../helpers/scripted-smtp.js';
import { replayConfig, scriptFor } from '../helpers/replay.js';
import { setupServer } from 'msw/node';
import { TokenAuthority } from '../helpers/google-token.js';
import { CLIENT_SECRET, REFRESH_TOKEN, uniqueClientId } from '../helpers/oauth-fixtures.js';

const MESSAGE = { from: 'me@gmail.com', to: 'you@example.com', subject: 'Replay', text: 'Hello' };

describe('recorded Google replies replayed byte for byte by a local SMTP server', () => {
  let server: ScriptedSmtpServer;
  let script: SessionScript = {};
  beforeAll(async () => {
    server = await startScriptedServer({ script: () => script });
  });
  afterAll(async () => {
    await server.close();
  });

  const rows = SMTP_REPLIES.flatMap((row) => (row.strategy === 'oauth2' ? [] : [[row.id, row.strategy, row.phase, row] as const]));

  it.each(rows)('%s (%s, at %s)', async (_id, strategy, phase, row) => {
    script = scriptFor(phase, row.reply);
    const mailer = createGmailTransport(replayConfig(strategy, server));
    const before = server.transcripts.length;
    const err = (await mailer.sendMail(MESSAGE).catch((e: unknown) => e)) as GmailTransportError;
    mailer.close();

    expect(isGmailTransportError(err)).toBe(true);
    expect({ code: err.code, retryable: err.retryable, phase: err.phase }).toEqual(row.expected);
    expect(err.strategy).toBe(strategy);
    // The server's facts come through intact: the multi-line text as sent, its codes.
    expect(err.responseCode).toBe(row.replyCode);
    expect(err.enhancedCode ?? null).toBe(row.enhanced);
    expect(err.response?.replace(/\r\n/g, '\n')).toBe(row.reply);
    expect(server.received.filter((m) => m.accepted)).toHaveLength(0);
    // The reply came at the phase it belongs to, in one session.
    expect(server.transcripts.length).toBe(before + 1);
  });

  it("classifies errors of the user's own nodemailer code with mapError (a plain account password: the basic-auth shutdown)", async () => {
    script = scriptFor('auth', SMTP_REPLIES.find((r) => r.id === 'gmail-535-578-badcredentials-2024')!.reply);
    // Code that still drives nodemailer itself with the account password, as before 2025-03-14.
    const plain = nodemailer.createTransport({
      host: '127.0.0.1',
      port: server.port,
      secure: true,
      tls: { ca: [server.cert] },
      auth: { user: 'me@gmail.com', pass: 'my-old-account-password' },
    });
    const raw = await plain.sendMail(MESSAGE).catch((e: unknown) => e);
    plain.close();
    expect(isGmailTransportError(raw)).toBe(false);

    const err = mapError(raw, { strategy: 'relay', credentialShape: 'account-password', locale: 'ja' });
    expect(err).toMatchObject({
      code: 'AUTH_INVALID_CREDENTIALS',
      retryable: false,
      phase: 'auth',
      responseCode: 535,
      enhancedCode: '5.7.8',
      strategy: 'relay',
    });
    expect(err.hint).toContain('2025-03-14');
    expect(err.hint).toMatch(/アプリ パスワード/);
    expect(err.cause).toBe(raw);
    expect(mapError(err)).toBe(err);
    expect(`${String(err)} ${JSON.stringify(err)} ${inspect(err, { depth: 5 })}`).not.toContain('my-old-account-password');

    const asAppPasswordUser = mapError(raw, { strategy: 'app-password' });
    expect(asAppPasswordUser.code).toBe('AUTH_INVALID_CREDENTIALS');
    expect(asAppPasswordUser.hint).toContain('app password');
    expect(mapError(raw, { authKind: 'oauth2' }).code).toBe('OAUTH_TOKEN_REJECTED');
  });

  it('classifies a failed verify() the same way', async () => {
    script = scriptFor('auth', SMTP_REPLIES.find((r) => r.id === 'gmail-534-579-app-password-required')!.reply);
    const mailer = createGmailTransport(replayConfig('app-password', server));
    const err = (await mailer.verify().catch((e: unknown) => e)) as GmailTransportError;
    mailer.close();
    expect(err).toMatchObject({ code: 'AUTH_APP_PASSWORD_REQUIRED', retryable: false, phase: 'auth', responseCode: 534, enhancedCode: '5.7.9' });
  });
});

describe('XOAUTH2 replies replayed to an oauth2 user (token endpoint played by msw)', () => {
  const msw = setupServer();
  const authority = new TokenAuthority();
  let server: ScriptedSmtpServer;
  let script: SessionScript = {};
  beforeAll(async () => {
    msw.listen({ onUnhandledRequest: 'error' });
    msw.use(authority.handler());
    server = await startScriptedServer({ script: () => script, authMethods: ['XOAUTH2'] });
  });
  afterAll(async () => {
    msw.close();
    await server.close();
  });

  const rows = SMTP_REPLIES.flatMap((row) => (row.strategy === 'oauth2' ? [[row.id, row.phase, row] as const] : []));

  it.each(rows)('%s (at %s)', async (_id, phase, row) => {
    script = scriptFor(phase, row.reply);
    const requestsBefore = authority.requests.length;
    const mailer = createGmailTransport({
      strategy: 'oauth2',
      user: 'me@gmail.com',
      clientId: uniqueClientId(),
      clientSecret: CLIENT_SECRET,
      refreshToken: REFRESH_TOKEN,
      smtp: { host: '127.0.0.1', port: server.port, secure: true, tls: { ca: [server.cert] } },
      retry: false,
    });
    const err = (await mailer.sendMail(MESSAGE).catch((e: unknown) => e)) as GmailTransportError;
    mailer.close();
    expect(isGmailTransportError(err)).toBe(true);
    expect({ code: err.code, retryable: err.retryable, phase: err.phase }).toEqual(row.expected);
    expect(err.strategy).toBe('oauth2');
    const transcript = server.transcripts.at(-1)!;
    if (row.reply.startsWith('334 ')) {
      // Gmail's challenge: the client answers with an empty line, takes one forced refresh and
      // tries once more; the 535 after the second challenge is final.
      expect(authority.requests.length - requestsBefore).toBe(2);
      expect(transcript.filter((line) => line.startsWith('AUTH XOAUTH2'))).toHaveLength(2);
      expect(err.responseCode).toBe(535);
    } else {
      expect(authority.requests.length - requestsBefore).toBe(1);
      expect(err.responseCode).toBe(row.replyCode);
    }
  });
});
