import { describe, expect, it } from 'vitest';
import { mapError, type ErrorCode } from '../../src/index.js';
import { classifySmtpReply, isXoauth2Challenge, parseEnhancedCode, parseReplyCode, replyText } from '../../src/errors/map-smtp.js';
import { ERROR_MEANINGS, RETRYABLE_BY_CODE } from '../../src/errors/catalog.js';
import { GOOGLE_REPLIES, SMTP_REPLIES, STALE_EXPECTATIONS, type SmtpReplyRow } from '../fixtures/smtp-replies.js';

/** The error nodemailer 10 raises for a reply at each phase (its `code` and `command`). */
function nodemailerError(row: Pick<SmtpReplyRow, 'phase' | 'reply' | 'replyCode' | 'strategy'>): Error {
  const shape = {
    connect: { code: 'EPROTOCOL', command: 'CONN' },
    ehlo: { code: 'EPROTOCOL', command: 'EHLO' },
    auth: { code: 'EAUTH', command: row.strategy === 'oauth2' ? 'AUTH XOAUTH2' : 'AUTH PLAIN' },
    mail: { code: 'EENVELOPE', command: 'MAIL FROM' },
    rcpt: { code: 'EENVELOPE', command: 'RCPT TO' },
    data: { code: 'EMESSAGE', command: 'DATA' },
  }[row.phase];
  return Object.assign(new Error(`Failed: ${row.reply}`), { ...shape, response: row.reply, responseCode: row.replyCode });
}

describe('SMTP reply table (test/fixtures/google-replies.json)', () => {
  it('has an expectation for every SMTP fixture, and none for a fixture that is gone', () => {
    const smtpIds = GOOGLE_REPLIES.filter((r) => !['oauth-token', 'gmail-api'].includes(r.phase)).map((r) => r.id);
    expect(SMTP_REPLIES.map((r) => r.id)).toEqual(expect.arrayContaining(smtpIds));
    expect(STALE_EXPECTATIONS).toEqual([]);
  });

  it.each(SMTP_REPLIES.map((row) => [row.id, row] as const))('%s', (_id, row) => {
    const err = mapError(nodemailerError(row), {
      strategy: row.strategy,
      authKind: row.strategy === 'oauth2' ? 'oauth2' : row.strategy === 'app-password' ? 'app-password' : 'none',
    });
    expect({ code: err.code, retryable: err.retryable, phase: err.phase }).toEqual(row.expected);
    expect(err.responseCode).toBe(row.replyCode);
    expect(err.enhancedCode ?? null).toBe(row.enhanced);
    expect(err.response).toBe(row.reply);
    expect(err.strategy).toBe(row.strategy);
    expect(err.message.startsWith(`${ERROR_MEANINGS[err.code]}: ${row.replyCode}`)).toBe(true);
    expect(err.hint).toBeTruthy();
  });

  it("agrees with each fixture's own retryable flag", () => {
    const disagreements = SMTP_REPLIES.filter((row) => {
      const entry = GOOGLE_REPLIES.find((r) => r.id === row.id);
      return entry !== undefined && entry.retryable !== row.expected.retryable;
    }).map((row) => row.id);
    expect(disagreements).toEqual([]);
  });

  it('gives each code the retryable flag the error reference documents for it', () => {
    for (const row of SMTP_REPLIES) {
      const documented = RETRYABLE_BY_CODE[row.expected.code];
      if (documented !== 'depends') expect([row.id, row.expected.retryable]).toEqual([row.id, documented === 'yes']);
    }
  });

  it('parses reply and enhanced codes of every fixture', () => {
    for (const row of SMTP_REPLIES) {
      expect(parseReplyCode(row.reply)).toBe(row.replyCode);
      if (row.replyCode !== 334) expect(parseEnhancedCode(row.reply) ?? null).toBe(row.enhanced);
    }
  });
});

describe('classifySmtpReply', () => {
  it('decides on the text where code and enhanced code are ambiguous (421 4.7.0, 530 5.7.0, 550 5.7.1)', () => {
    const byText = (reply: string, phase?: 'ehlo' | 'mail' | 'rcpt' | 'data'): ErrorCode => classifySmtpReply(Number(reply.slice(0, 3)), reply, phase).code;
    expect(byText('421 4.7.0 Try again later, closing connection. (EHLO)', 'ehlo')).toBe('RATE_LIMITED');
    expect(byText('421 4.7.0 Temporary System Problem.  Try again later (10).', 'data')).toBe('TEMPORARY_FAILURE');
    expect(byText('421 4.7.0 TLS required for RCPT domain, closing connection.', 'rcpt')).toBe('TLS_REQUIRED');
    expect(byText('421-4.7.0 This message does not pass authentication checks (SPF and DKIM both\n421 4.7.0 do not pass).', 'data')).toBe('POLICY_REJECTED');
    expect(byText('530 5.7.0 Must issue a STARTTLS command first.', 'mail')).toBe('TLS_REQUIRED');
    expect(byText('530 5.7.0 Authentication Required.', 'mail')).toBe('RELAY_DENIED');
    expect(byText('550 5.7.1 Invalid credentials for relay [192.0.2.1].', 'mail')).toBe('RELAY_DENIED');
    expect(byText('550 5.7.1 Daily SMTP relay limit exceeded for customer.', 'data')).toBe('QUOTA_EXCEEDED');
  });

  it('matches wordings that Google wraps across lines', () => {
    const reply = '534-5.7.14 <https://example.invalid/x> Please log\n534-5.7.14 in via your web browser and then try again.';
    expect(replyText(reply)).toBe('<https://example.invalid/x> Please log in via your web browser and then try again.');
    expect(classifySmtpReply(534, reply, 'auth').code).toBe('AUTH_WEB_LOGIN_REQUIRED');
  });

  // Code-only rows, from the status codes' definitions rather than a recorded Google reply.
  it.each([
    ['552 5.3.4 Message too big for system', 'data', 'MESSAGE_REJECTED', false], // RFC 3463 §3.4 X.3.4
    ['550 5.1.1 No such user', 'rcpt', 'RECIPIENT_REJECTED', false], // RFC 3463 §3.2 X.1.1
    ['552 5.2.2 Mailbox full', 'rcpt', 'RECIPIENT_REJECTED', false], // RFC 3463 §3.3 X.2.2
    ['550 Requested action not taken', 'rcpt', 'RECIPIENT_REJECTED', false], // RFC 5321 §4.2.3 at RCPT
    ['450 4.7.1 Please try again', 'mail', 'TEMPORARY_FAILURE', true], // other 4xx
    ['554 5.7.0 Transaction failed', 'data', 'PERMANENT_FAILURE', false], // other 5xx
  ] as const)('%s at %s is %s', (reply, phase, code, retryable) => {
    expect(classifySmtpReply(Number(reply.slice(0, 3)), reply, phase)).toMatchObject({ code, retryable });
  });

  it("recognises Google's XOAUTH2 error challenge and nothing else as one", () => {
    const challenge = `334 ${Buffer.from('{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}').toString('base64')}`;
    expect(isXoauth2Challenge(challenge)).toBe(true);
    expect(isXoauth2Challenge('334 VXNlcm5hbWU6')).toBe(false);
    expect(isXoauth2Challenge('334 not base64 at all')).toBe(false);
    expect(classifySmtpReply(334, challenge, 'auth')).toEqual({ code: 'OAUTH_TOKEN_REJECTED', retryable: false });
  });
});
