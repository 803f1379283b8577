import { describe, expect, it } from 'vitest';
import { GmailTransportError, mapError, type MapErrorContext } from '../../src/index.js';
import { carryError, errorFor } from '../../src/errors/map-error.js';

/** An error shaped as nodemailer 10 or Node reports it. */
function nm(fields: Record<string, unknown>, message = 'failed'): Error {
  return Object.assign(new Error(message), fields);
}

describe('mapError without a server reply', () => {
  it.each<[string, Error, MapErrorContext, Record<string, unknown>]>([
    [
      'refused connection',
      nm({ code: 'ESOCKET', originalCode: 'ECONNREFUSED', command: 'CONN' }),
      {},
      { code: 'CONNECTION_FAILED', retryable: true, phase: 'connect' },
    ],
    [
      "a Node socket error from the user's own code",
      nm({ code: 'ECONNRESET', syscall: 'read' }),
      {},
      { code: 'CONNECTION_FAILED', retryable: true, phase: 'connect' },
    ],
    ['greeting timeout', nm({ code: 'ETIMEDOUT', command: 'CONN' }), { body: 'not-sent' }, { code: 'CONNECTION_FAILED', retryable: true, phase: 'connect' }],
    [
      'a drop during the envelope',
      nm({ code: 'ECONNECTION', command: 'CONN' }),
      { body: 'not-sent', reached: 'mail' },
      { code: 'CONNECTION_FAILED', retryable: true, phase: 'mail' },
    ],
    [
      'a drop while the body streams',
      nm({ code: 'ESOCKET', originalCode: 'EPIPE', command: 'CONN' }),
      { body: 'partial' },
      { code: 'CONNECTION_FAILED', retryable: true, phase: 'data' },
    ],
    [
      'a drop after the final dot',
      nm({ code: 'ECONNECTION', command: 'CONN' }),
      { body: 'complete', messageId: '<id@x>' },
      { code: 'DELIVERY_UNCERTAIN', retryable: false, phase: 'data', messageId: '<id@x>' },
    ],
    ['a timeout after the final dot', nm({ code: 'ETIMEDOUT', command: 'CONN' }), { body: 'complete' }, { code: 'DELIVERY_UNCERTAIN', retryable: false }],
    [
      'an untrusted certificate',
      nm({ code: 'ESOCKET', originalCode: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', command: 'CONN' }, 'unable to verify the first certificate'),
      {},
      { code: 'TLS_FAILED', retryable: false, phase: 'tls' },
    ],
    ['an expired certificate', nm({ code: 'CERT_HAS_EXPIRED' }, 'certificate has expired'), {}, { code: 'TLS_FAILED', retryable: false, phase: 'tls' }],
    [
      'a TLS upgrade cut short',
      nm({ code: 'ETLS', command: 'CONN' }, 'Connection closed unexpectedly'),
      {},
      { code: 'TLS_FAILED', retryable: true, phase: 'tls' },
    ],
    [
      'nodemailer XOAuth2: invalid_grant',
      nm({ code: 'EAUTH', originalCode: 'EOAUTH2', command: 'AUTH XOAUTH2' }, 'invalid_grant: Bad Request'),
      {},
      { code: 'OAUTH_INVALID_GRANT', retryable: false, phase: 'token' },
    ],
    [
      'nodemailer XOAuth2: invalid_client',
      nm({ code: 'EAUTH', originalCode: 'EOAUTH2' }, 'invalid_client: Unauthorized'),
      {},
      { code: 'OAUTH_INVALID_CLIENT', retryable: false, phase: 'token' },
    ],
    [
      'nodemailer XOAuth2: unauthorized_client',
      nm({ code: 'EAUTH', originalCode: 'EOAUTH2' }, 'unauthorized_client: Unauthorized client or scope in request.'),
      {},
      { code: 'OAUTH_SCOPE_DENIED', retryable: false },
    ],
    [
      'missing credentials',
      nm({ code: 'EAUTH', command: 'API' }, 'Missing credentials for "PLAIN"'),
      { strategy: 'relay' },
      { code: 'AUTH_INVALID_CREDENTIALS', retryable: false, phase: 'auth' },
    ],
    ['no recipients', nm({ code: 'EENVELOPE', command: 'API' }, 'No recipients defined'), {}, { code: 'MESSAGE_INVALID', retryable: false, phase: 'message' }],
    [
      'SIZE extension limit',
      nm({ code: 'EMESSAGE', command: 'MAIL FROM' }, 'Message size larger than allowed 1000'),
      {},
      { code: 'MESSAGE_REJECTED', retryable: false, phase: 'mail' },
    ],
    ['REQUIRETLS not offered', nm({ code: 'EREQUIRETLS', command: 'MAIL FROM' }), {}, { code: 'TLS_REQUIRED', retryable: false, phase: 'mail' }],
    ['a bug', new TypeError('x is not a function'), {}, { code: 'UNKNOWN', retryable: false }],
    ['not even an Error', 'boom' as unknown as Error, {}, { code: 'UNKNOWN', retryable: false }],
  ])('%s', (_name, error, context, expected) => {
    const mapped = mapError(error, context);
    expect(mapped).toBeInstanceOf(GmailTransportError);
    expect(mapped).toMatchObject(expected);
    expect(mapped.cause).toBe(error);
    expect(Object.keys(JSON.parse(JSON.stringify(mapped)))).not.toContain('cause');
  });
});

describe('mapError with a server reply', () => {
  it('treats a refused STARTTLS as a TLS failure that retrying does not fix, 454 included (issue 19)', () => {
    expect(mapError(nm({ code: 'ETLS', command: 'STARTTLS', responseCode: 502, response: '502 5.5.1 Unrecognized command.' }))).toMatchObject({
      code: 'TLS_FAILED',
      retryable: false,
      phase: 'tls',
    });
    const unavailable = mapError(nm({ code: 'ETLS', command: 'STARTTLS', responseCode: 454, response: '454 4.7.0 TLS not available due to temporary reason' }));
    expect(unavailable).toMatchObject({ code: 'TLS_FAILED', retryable: false, phase: 'tls' });
    expect(unavailable.hint).toContain('smtp.requireTLS: false');
  });

  it('reads the replies of "all recipients were rejected" from the recipient errors', () => {
    const rejected = nm(
      { code: 'EENVELOPE', command: 'RCPT TO', rejectedErrors: [nm({ responseCode: 550, response: '550 5.1.1 No such user' })] },
      "Can't send mail - all recipients were rejected",
    );
    expect(mapError(rejected)).toMatchObject({ code: 'RECIPIENT_REJECTED', phase: 'rcpt', responseCode: 550, enhancedCode: '5.1.1' });
  });

  it('decides what a 535 means from the strategy and the way it logged in', () => {
    const refused = nm({
      code: 'EAUTH',
      command: 'AUTH PLAIN',
      responseCode: 535,
      response: '535 5.7.8 Username and Password not accepted. https://support.google.com/mail/?p=BadCredentials',
    });
    const xoauth2 = nm({ code: 'EAUTH', command: 'AUTH XOAUTH2', responseCode: 535, response: '535 5.7.8 Username and Password not accepted.' });
    expect(mapError(refused, { strategy: 'app-password' }).hint).toBe(errorFor('AUTH_INVALID_CREDENTIALS', { variant: 'app-password' }).hint);
    expect(mapError(refused, { strategy: 'relay' }).hint).toBe(errorFor('AUTH_INVALID_CREDENTIALS', { variant: 'relay' }).hint);
    expect(mapError(refused, { strategy: 'relay', credentialShape: 'account-password' }).hint).toContain('2025-03-14');
    expect(mapError(refused).hint).toBe(errorFor('AUTH_INVALID_CREDENTIALS').hint);
    expect(mapError(xoauth2)).toMatchObject({ code: 'OAUTH_TOKEN_REJECTED', retryable: false, phase: 'auth' });
    expect(mapError(xoauth2, { strategy: 'service-account', authKind: 'oauth2' }).hint).toBe(
      errorFor('OAUTH_TOKEN_REJECTED', { variant: 'service-account' }).hint,
    );
  });

  it('keeps the first line of the reply in the message, and the whole reply in `response`', () => {
    const reply = "550-5.7.1 Invalid credentials for relay [192.0.2.1]. The IP address you've\n550 5.7.1 registered ... gsmtp";
    const mapped = mapError(nm({ code: 'EENVELOPE', command: 'MAIL FROM', responseCode: 550, response: reply }));
    expect(mapped.message).toMatch(/^The server refused to relay for this sender: 550 5\.7\.1 Invalid credentials for relay/);
    expect(mapped.response).toBe(reply);
  });
});

describe("mapError and nodemailer's AbortError (sendMail({ signal }))", () => {
  const reason = new Error('request cancelled by the user');
  const abortError = () => Object.assign(new Error('Message sending aborted', { cause: reason }), { name: 'AbortError', code: 'EABORT' });

  it("is ABORTED, not retryable, with the signal's reason as cause", () => {
    const err = mapError(abortError(), { strategy: 'app-password', body: 'partial' });
    expect(err).toMatchObject({ code: 'ABORTED', retryable: false, phase: 'data' });
    expect(err.cause).toBe(reason);
    expect(err.hint).toMatch(/nothing was delivered/);
  });

  it('is DELIVERY_UNCERTAIN once the whole body was handed over, with the hint for an abort', () => {
    const err = mapError(abortError(), { strategy: 'app-password', body: 'complete', messageId: '<m@x>' });
    expect(err).toMatchObject({ code: 'DELIVERY_UNCERTAIN', retryable: false, phase: 'data', messageId: '<m@x>' });
    expect(err.hint).toMatch(/aborted by its AbortSignal/);
    expect(mapError(abortError(), { body: 'complete', locale: 'ja' }).hint).toMatch(/AbortSignal で送信が中止/);
  });

  it('a DOM-style AbortError (fetch, a plugin) is ABORTED when the context says the caller aborted; a TimeoutError is not', () => {
    expect(mapError(new DOMException('This operation was aborted', 'AbortError'), { aborted: true })).toMatchObject({ code: 'ABORTED' });
    expect(mapError(new DOMException('The operation was aborted due to timeout', 'TimeoutError'), { aborted: true })).toMatchObject({ code: 'UNKNOWN' });
  });

  it("an AbortError from some other signal (one that ended a content stream) is not the caller's abort", () => {
    // What nodemailer reports for a stream that `stream.addAbortSignal` ended.
    const streamError = Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ESTREAM' });
    expect(mapError(streamError, { body: 'partial' })).toMatchObject({ code: 'UNKNOWN', retryable: false });
    expect(mapError(streamError, { body: 'partial', aborted: true })).toMatchObject({ code: 'ABORTED' });
  });
});

describe('errors that are already ours', () => {
  it('returns a GmailTransportError as it is, and unwraps one carried through nodemailer', () => {
    const ours = errorFor('OAUTH_INVALID_GRANT', { strategy: 'oauth2', phase: 'token' });
    expect(mapError(ours)).toBe(ours);
    const carrier = Object.assign(carryError(ours), { code: 'EAUTH' });
    expect(mapError(carrier, { strategy: 'oauth2' })).toBe(ours);
  });
});
