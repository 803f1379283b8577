import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { classifyGmailApiError, parseRetryAfter, type GoogleErrorBody } from '../../src/errors/map-http.js';
import { hintFor, hintKeys, type HintKey } from '../../src/errors/hints.js';
import type { ErrorCode } from '../../src/index.js';

interface Fixture {
  id: string;
  phase: string;
  reply: { status: number; body: GoogleErrorBody };
  category: string;
  retryable: boolean;
}

const fixtures = (JSON.parse(readFileSync(new URL('../fixtures/google-replies.json', import.meta.url), 'utf8')) as Fixture[]).filter(
  (f) => f.phase === 'gmail-api',
);

/** What each recorded Gmail API reply must map to (code and hint variant). */
const EXPECTED: Record<string, { code: ErrorCode; variant?: string }> = {
  'gmailapi-400-invalid-to-header': { code: 'RECIPIENT_REJECTED' },
  'gmailapi-400-precondition-check-failed': { code: 'OAUTH_SCOPE_DENIED', variant: 'failed-precondition' },
  'gmailapi-400-recipient-address-required': { code: 'RECIPIENT_REJECTED' },
  'gmailapi-401-autherror-doc': { code: 'OAUTH_TOKEN_REJECTED', variant: 'gmail-api' },
  'gmailapi-401-unauthenticated': { code: 'OAUTH_TOKEN_REJECTED', variant: 'gmail-api' },
  'gmailapi-403-access-not-configured': { code: 'OAUTH_INVALID_CLIENT', variant: 'api-disabled' },
  'gmailapi-403-dailylimitexceeded-doc': { code: 'QUOTA_EXCEEDED', variant: 'api-project' },
  'gmailapi-403-domainpolicy-doc': { code: 'POLICY_REJECTED', variant: 'domain-policy' },
  'gmailapi-403-insufficient-permission': { code: 'OAUTH_SCOPE_DENIED', variant: 'gmail-api' },
  'gmailapi-403-queries-per-minute-quota': { code: 'RATE_LIMITED', variant: 'gmail-api' },
  'gmailapi-403-ratelimitexceeded-doc': { code: 'RATE_LIMITED', variant: 'gmail-api' },
  'gmailapi-429-user-rate-limit-retry-after': { code: 'RATE_LIMITED', variant: 'gmail-api' },
  'gmailapi-500-backenderror-doc': { code: 'TEMPORARY_FAILURE' },
};

describe('classifyGmailApiError: the recorded Gmail API replies', () => {
  it('has an expectation for every gmail-api fixture, and a fixture for every expectation', () => {
    expect(fixtures.map((f) => f.id).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const fixture of fixtures) {
    it(`${fixture.id} → ${EXPECTED[fixture.id]?.code}`, () => {
      const result = classifyGmailApiError(fixture.reply.status, fixture.reply.body);
      const expected = EXPECTED[fixture.id]!;
      expect(result.code).toBe(expected.code);
      expect(result.variant).toBe(expected.variant);
      // The fixture's `retryable` says whether the same request may succeed later unchanged.
      expect(result.retryable).toBe(fixture.retryable);
      const hasReason = Boolean(fixture.reply.body.error?.errors?.length || fixture.reply.body.error?.status);
      expect(Boolean(result.reason)).toBe(hasReason);
      if (expected.variant) expect(hintKeys()).toContain(`${expected.code}:${expected.variant}` as HintKey);
    });
  }
});

describe('classifyGmailApiError: beyond the fixtures', () => {
  const body = (reason: string, message: string, status?: string): GoogleErrorBody => ({
    error: { code: 0, message, errors: [{ reason, message, domain: 'global' }], ...(status ? { status } : {}) },
  });

  it('reads the reason, not the status: the same 403 means four different things', () => {
    expect(classifyGmailApiError(403, body('rateLimitExceeded', 'Rate Limit Exceeded')).code).toBe('RATE_LIMITED');
    expect(classifyGmailApiError(403, body('dailyLimitExceeded', 'Daily Limit Exceeded')).code).toBe('QUOTA_EXCEEDED');
    expect(classifyGmailApiError(403, body('domainPolicy', 'The domain administrators have disabled Gmail apps.')).code).toBe('POLICY_REJECTED');
    expect(classifyGmailApiError(403, body('insufficientPermissions', 'Insufficient Permission')).code).toBe('OAUTH_SCOPE_DENIED');
  });

  it('userRateLimitExceeded is a rate limit, retryable', () => {
    expect(classifyGmailApiError(403, body('userRateLimitExceeded', 'User Rate Limit Exceeded'))).toMatchObject({ code: 'RATE_LIMITED', retryable: true });
  });

  it('the google.rpc form: SERVICE_DISABLED in ErrorInfo details is the API not enabled', () => {
    const rpc: GoogleErrorBody = {
      error: {
        code: 403,
        message: 'Gmail API has not been used in project 1 before or it is disabled.',
        status: 'PERMISSION_DENIED',
        details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'SERVICE_DISABLED' }],
      },
    };
    expect(classifyGmailApiError(403, rpc)).toMatchObject({ code: 'OAUTH_INVALID_CLIENT', variant: 'api-disabled', reason: 'SERVICE_DISABLED' });
  });

  it('"Delegation denied" (token of another account than `user`) is a scope/delegation problem', () => {
    expect(classifyGmailApiError(403, body('forbidden', 'Delegation denied for boss@example.com'))).toMatchObject({
      code: 'OAUTH_SCOPE_DENIED',
      variant: 'gmail-api',
    });
  });

  it('the daily sending limit ("(Mail sending)") is a quota, not a short rate limit', () => {
    const reply: GoogleErrorBody = { error: { code: 429, message: 'User-rate limit exceeded.  Retry after 2030-01-01T00:00:00.000Z (Mail sending)' } };
    expect(classifyGmailApiError(429, reply)).toMatchObject({ code: 'QUOTA_EXCEEDED', retryable: false });
  });

  it('invalidArgument about something other than recipients is a SYNTAX_ERROR', () => {
    expect(
      classifyGmailApiError(400, body('invalidArgument', "'raw' RFC822 payload message string or uploading message via /upload/* URL required")).code,
    ).toBe('SYNTAX_ERROR');
    expect(classifyGmailApiError(400, body('invalidArgument', 'Invalid Cc header')).code).toBe('RECIPIENT_REJECTED');
  });

  it('413, other 5xx, other 4xx and a body that is not Google JSON', () => {
    expect(classifyGmailApiError(413, undefined)).toMatchObject({ code: 'MESSAGE_REJECTED', variant: 'gmail-api-size', retryable: false });
    expect(classifyGmailApiError(503, undefined)).toMatchObject({ code: 'TEMPORARY_FAILURE', retryable: true });
    expect(classifyGmailApiError(502, { error: { message: 'Bad Gateway' } })).toMatchObject({ code: 'TEMPORARY_FAILURE', retryable: true });
    expect(classifyGmailApiError(404, body('notFound', 'Requested entity was not found.'))).toMatchObject({ code: 'PERMANENT_FAILURE', retryable: false });
    expect(classifyGmailApiError(302, undefined)).toMatchObject({ code: 'PERMANENT_FAILURE', retryable: false });
  });

  it('every variant the table uses has a hint in both locales', () => {
    for (const key of [
      'OAUTH_TOKEN_REJECTED:gmail-api',
      'OAUTH_SCOPE_DENIED:gmail-api',
      'OAUTH_SCOPE_DENIED:failed-precondition',
      'POLICY_REJECTED:domain-policy',
      'RATE_LIMITED:gmail-api',
      'QUOTA_EXCEEDED:api-project',
      'MESSAGE_REJECTED:gmail-api-size',
      'CONFIG_INVALID:gmail-api-envelope',
    ] as const) {
      expect(hintKeys()).toContain(key);
      expect(hintFor(key, 'en')).not.toBe(hintFor(key.split(':')[0] as HintKey, 'en'));
      expect(hintFor(key, 'ja')).not.toBe(hintFor(key, 'en'));
    }
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');

  it('reads delta-seconds and an HTTP-date (RFC 9110 §10.2.3)', () => {
    expect(parseRetryAfter('7', undefined, now)).toBe(7000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', undefined, now)).toBe(30_000);
  });

  it('falls back to the "Retry after <time>" of Gmail 429 messages', () => {
    const body: GoogleErrorBody = { error: { message: 'User-rate limit exceeded.  Retry after 2026-01-01T00:01:00.000Z' } };
    expect(parseRetryAfter(null, body, now)).toBe(60_000);
  });

  it('ignores a time already past (the recorded fixture is from 2018) and nonsense', () => {
    const fixture = fixtures.find((f) => f.id === 'gmailapi-429-user-rate-limit-retry-after')!;
    expect(parseRetryAfter(null, fixture.reply.body, now)).toBeUndefined();
    expect(parseRetryAfter('soon', undefined, now)).toBeUndefined();
    expect(parseRetryAfter(undefined, undefined, now)).toBeUndefined();
  });
});
