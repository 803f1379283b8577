import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGmailTransport, ERROR_CODES, hintFor, type ErrorCode, type GmailTransportError } from '../../src/index.js';
import { hintKeys, type HintKey } from '../../src/errors/hints.js';
import { startScriptedServer, type ScriptedSmtpServer } from '../helpers/scripted-smtp.js';
import { replayConfig } from '../helpers/replay.js';

const JAPANESE = /[\u3040-\u30ff\u4e00-\u9fff]/;

describe('hints', () => {
  it.each(ERROR_CODES.map((code) => [code]))('%s has a hint in English and in Japanese', (code) => {
    const en = hintFor(code, 'en');
    const ja = hintFor(code, 'ja');
    expect(en.length).toBeGreaterThan(20);
    expect(en).not.toMatch(JAPANESE);
    expect(ja).toMatch(JAPANESE);
    expect(ja).not.toBe(en);
    expect(hintFor(code)).toBe(en);
  });

  it('has both languages for every variant, each different from its code’s own hint', () => {
    const variants = hintKeys().filter((key) => key.includes(':'));
    expect(variants.length).toBeGreaterThan(10);
    for (const key of variants) {
      const code = key.split(':')[0] as ErrorCode;
      expect(ERROR_CODES).toContain(code);
      expect(hintFor(key, 'ja')).toMatch(JAPANESE);
      expect(hintFor(key, 'en')).not.toMatch(JAPANESE);
      expect([key, hintFor(key, 'en')]).not.toEqual([key, hintFor(code, 'en')]);
      expect([key, hintFor(key, 'ja')]).not.toEqual([key, hintFor(code, 'ja')]);
    }
  });

  it('falls back to the code’s hint for an unknown variant, and to UNKNOWN’s for an unknown code', () => {
    expect(hintFor('RATE_LIMITED:no-such-variant' as HintKey, 'ja')).toBe(hintFor('RATE_LIMITED', 'ja'));
    expect(hintFor('NO_SUCH_CODE' as HintKey)).toBe(hintFor('UNKNOWN'));
  });

  it('says what the issue asks of the hints that matter most', () => {
    expect(hintFor('AUTH_INVALID_CREDENTIALS:basic-auth')).toContain('2025-03-14');
    expect(hintFor('AUTH_INVALID_CREDENTIALS:basic-auth', 'ja')).toContain('2025-03-14');
    expect(hintFor('CONNECTION_FAILED')).toMatch(/465.*587|587.*465/);
    expect(hintFor('CONNECTION_FAILED')).toContain('gmail-api');
    expect(hintFor('OAUTH_TOKEN_REJECTED')).toContain('https://mail.google.com/');
    expect(hintFor('DELIVERY_UNCERTAIN')).toContain('messageId');
    expect(hintFor('QUOTA_EXCEEDED')).toContain('failover');
  });
});

describe('locale in the config', () => {
  let server: ScriptedSmtpServer;
  beforeAll(async () => {
    server = await startScriptedServer({
      script: {
        replies: {
          auth: '534-5.7.9 Application-specific password required. Learn more at\n534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor o13sm2119833lfg.90 - gsmtp',
        },
      },
    });
  });
  afterAll(() => server.close());

  it.each([
    ['ja', 'ja'],
    [undefined, 'en'],
  ] as const)('locale %s gives %s hints on errors from sendMail and verify', async (locale, expected) => {
    const mailer = createGmailTransport(replayConfig('app-password', server, locale ? { locale } : {}));
    const sendError = (await mailer.sendMail({ from: 'me@gmail.com', to: 'you@example.com', text: 'x' }).catch((e: unknown) => e)) as GmailTransportError;
    const verifyError = (await mailer.verify().catch((e: unknown) => e)) as GmailTransportError;
    mailer.close();
    for (const err of [sendError, verifyError]) {
      expect(err.code).toBe('AUTH_APP_PASSWORD_REQUIRED');
      expect(err.hint).toBe(hintFor('AUTH_APP_PASSWORD_REQUIRED', expected));
    }
  });
});
