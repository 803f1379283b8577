import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { GmailTransportError, mapError, type ErrorCode, type ErrorPhase } from '../../src/index.js';
import { replyForPartialDelivery, replyForUpstreamError, replyLabel } from '../../src/bridge/replies.js';

interface Fixture {
  id: string;
  phase: string;
  reply: string;
  code: number;
  retryable: boolean;
}

const fixtures = JSON.parse(readFileSync(new URL('../fixtures/google-replies.json', import.meta.url), 'utf8')) as Fixture[];
const COMMAND: Record<string, string> = { mail: 'MAIL FROM', rcpt: 'RCPT TO', data: 'DATA' };

function upstreamError(code: ErrorCode, extra: Partial<ConstructorParameters<typeof GmailTransportError>[0]> = {}): GmailTransportError {
  return new GmailTransportError({ code, message: code, retryable: ['RATE_LIMITED', 'CONNECTION_FAILED', 'TEMPORARY_FAILURE'].includes(code), ...extra });
}

describe('device replies for upstream outcomes', () => {
  it.each([
    ['RATE_LIMITED', '451 4.4.5'],
    ['CONNECTION_FAILED', '451 4.4.1'],
    ['TEMPORARY_FAILURE', '451 4.3.0'],
    ['DELIVERY_UNCERTAIN', '451 4.4.2'],
    // Failures of the bridge's own setup keep the message on the device until they are fixed.
    ['OAUTH_INVALID_GRANT', '451 4.7.0'],
    ['AUTH_INVALID_CREDENTIALS', '451 4.7.0'],
    ['TLS_FAILED', '451 4.7.0'],
    ['RELAY_DENIED', '451 4.7.0'],
    ['UNKNOWN', '451 4.7.0'],
    ['CONFIG_INVALID', '554 5.3.3'],
    ['RECIPIENT_REJECTED', '550 5.1.1'],
    ['QUOTA_EXCEEDED', '550 5.4.5'],
    ['MESSAGE_REJECTED', '554 5.6.0'],
    ['POLICY_REJECTED', '550 5.7.1'],
    ['SYNTAX_ERROR', '554 5.5.0'],
    ['PERMANENT_FAILURE', '554 5.0.0'],
  ] as Array<[ErrorCode, string]>)('%s → %s', (code, expected) => {
    expect(replyLabel(replyForUpstreamError(upstreamError(code)).reply)).toBe(expected);
  });

  it('keeps the upstream reply code and enhanced code where SMTP allows them after DATA', () => {
    expect(replyLabel(replyForUpstreamError(upstreamError('MESSAGE_REJECTED', { responseCode: 552, enhancedCode: '5.3.4' })).reply)).toBe('552 5.3.4');
    // 553 is a RCPT reply; after the final dot it becomes 550 (RFC 5321 4.3.2).
    expect(replyLabel(replyForUpstreamError(upstreamError('RECIPIENT_REJECTED', { responseCode: 553, enhancedCode: '5.1.2' })).reply)).toBe('550 5.1.2');
    expect(replyLabel(replyForUpstreamError(upstreamError('PERMANENT_FAILURE', { responseCode: 535, enhancedCode: '4.7.0' })).reply)).toBe('554 5.0.0');
  });

  it('every recorded Google refusal at MAIL/RCPT/DATA: retryable → 4xx, else 4xx for setup problems or a 550/552/554', () => {
    const rows = fixtures.filter((f) => f.phase in COMMAND);
    expect(rows.length).toBeGreaterThan(10);
    for (const row of rows) {
      const err = mapError({ code: 'EENVELOPE', responseCode: row.code, response: row.reply, command: COMMAND[row.phase] }, { phase: row.phase as ErrorPhase });
      const { reply, outcome } = replyForUpstreamError(err);
      if (err.retryable) expect([row.id, reply.code, outcome]).toEqual([row.id, 451, 'deferred']);
      else if (outcome === 'rejected') expect([row.id, [550, 552, 554].includes(reply.code)]).toEqual([row.id, true]);
      else expect([row.id, reply.code, reply.enhanced]).toEqual([row.id, 451, '4.7.0']);
    }
    const quota = fixtures.find((f) => f.id === 'gmail-550-545-daily-sending-quota-legacy')!;
    const mapped = replyForUpstreamError(mapError({ responseCode: quota.code, response: quota.reply, command: 'DATA' }, { phase: 'data' }));
    expect(replyLabel(mapped.reply)).toBe('550 5.4.5');
  });

  it('partial delivery is never a 250', () => {
    expect(replyLabel(replyForPartialDelivery(2, 1, false).reply)).toBe('550 5.1.1');
    expect(replyForPartialDelivery(2, 1, true)).toMatchObject({ outcome: 'deferred', reply: { code: 451 } });
  });
});
