import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { setupServer } from 'msw/node';
import { http, HttpResponse } from 'msw';
import { TokenAuthority } from '../helpers/google-token.js';
import { CLIENT_SECRET, REFRESH_TOKEN, ACCESS_TOKEN_PREFIX, uniqueClientId } from '../helpers/oauth-fixtures.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../helpers/scripted-upstream.js';
import { fastHash, messageLogs, startBridge, type CapturedLog, type RunningBridge } from '../helpers/bridge.js';
import { printerSend, scanMessage } from '../helpers/printer.js';

const GMAIL_SEND = 'https://gmail.googleapis.com/gmail/v1/users/:user/messages/send';
const PRINTER_PASSWORD = 'FAKE-PRINTER-PW-aa01';
const SECRETS = [CLIENT_SECRET, REFRESH_TOKEN, ACCESS_TOKEN_PREFIX, PRINTER_PASSWORD];

const msw = setupServer();
let authority: TokenAuthority;
const gmailCalls: Array<{ user: string; raw: Buffer; authorization: string | null }> = [];
let gmailReply: () => Response = () => HttpResponse.json({ id: 'msg-1', threadId: 't-1', labelIds: ['SENT'] });

beforeAll(() => msw.listen({ onUnhandledRequest: 'error' }));
beforeEach(() => {
  authority = new TokenAuthority();
  gmailCalls.length = 0;
  gmailReply = () => HttpResponse.json({ id: `msg-${gmailCalls.length}`, threadId: 't-1', labelIds: ['SENT'] });
  msw.resetHandlers(
    authority.handler(),
    http.post(GMAIL_SEND, async ({ request, params }) => {
      const body = (await request.json()) as { raw: string };
      gmailCalls.push({ user: String(params.user), raw: Buffer.from(body.raw, 'base64url'), authorization: request.headers.get('authorization') });
      return gmailReply();
    }),
  );
});
afterAll(() => msw.close());

describe('bridge delivery through OAuth upstreams (deliverUpstream)', () => {
  let upstream: ScriptedUpstream;
  let hash: string;
  const running: RunningBridge[] = [];
  const logs: CapturedLog[] = [];
  beforeAll(async () => {
    upstream = await startScriptedUpstream();
    hash = await fastHash(PRINTER_PASSWORD);
  });
  afterEach(async () => {
    while (running.length) {
      const b = running.pop()!;
      logs.push(...b.logs);
      await b.close();
    }
  });
  afterAll(async () => {
    await upstream.close();
    expect(logs.length).toBeGreaterThan(0);
    for (const log of logs) for (const secret of SECRETS) expect(log.line).not.toContain(secret);
  });

  // The README's "office printers send scans to Gmail through OAuth2" setup, pointed at local stand-ins.
  async function officeBridge(upstreamConfig: Record<string, unknown>): Promise<RunningBridge> {
    const b = await startBridge({
      accounts: [{ user: 'printer-3f', passwordHash: hash, allowFrom: ['scans@example.com'] }],
      allowNetworks: ['10.20.30.0/24'],
      upstream: { user: 'scans@example.com', clientId: uniqueClientId(), clientSecret: CLIENT_SECRET, refreshToken: REFRESH_TOKEN, ...upstreamConfig } as never,
    });
    running.push(b);
    return b;
  }
  const scan = (b: RunningBridge, to = ['alice@example.com'], message = scanMessage({ from: 'scans@example.com', to: to.join(', ') })) =>
    printerSend(b.port, { startTls: { ca: b.cert }, user: 'printer-3f', pass: PRINTER_PASSWORD, from: 'scans@example.com', to, message });

  it('oauth2: the printer logs in with its password, the bridge sends with XOAUTH2', async () => {
    const b = await officeBridge({ strategy: 'oauth2', smtp: { host: '127.0.0.1', port: upstream.port, secure: true, tls: { ca: [upstream.cert] } } });
    const before = upstream.accepted.length;
    expect((await scan(b)).final).toMatch(/^250 /);
    expect(upstream.accepted).toHaveLength(before + 1);
    expect(upstream.accepted.at(-1)!.auth?.username).toBe('scans@example.com');
    expect(authority.requests).toHaveLength(1);
    expect(messageLogs(b.logs)[0]).toMatchObject({ account: 'printer-3f', outcome: 'delivered' });
  });

  it('oauth2 with a revoked refresh token: 451 (the device keeps the scan), logged as an error for the operator', async () => {
    authority.behaviour = { kind: 'reply', status: 400, body: { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' } };
    const b = await officeBridge({ strategy: 'oauth2', smtp: { host: '127.0.0.1', port: upstream.port, secure: true, tls: { ca: [upstream.cert] } } });
    expect((await scan(b)).final).toMatch(/^451 4\.7\.0 /);
    const line = b.logs.find((l) => l.record.event === 'message')!;
    expect(line.level).toBe('error');
    expect(line.record).toMatchObject({ outcome: 'deferred', upstreamCode: 'OAUTH_INVALID_GRANT' });
  });

  it('oauth2 with the token endpoint down: 451 4.4.1, the device retries later', async () => {
    authority.behaviour = { kind: 'reset' };
    const b = await officeBridge({ strategy: 'oauth2', smtp: { host: '127.0.0.1', port: upstream.port, secure: true, tls: { ca: [upstream.cert] } } });
    expect((await scan(b)).final).toMatch(/^451 4\.4\.1 /);
    expect(messageLogs(b.logs)[0]).toMatchObject({ outcome: 'deferred', upstreamCode: 'CONNECTION_FAILED' });
  });

  it('gmail-api: the message reaches the Gmail API stand-in byte for byte', async () => {
    const b = await officeBridge({ strategy: 'gmail-api' });
    const message = scanMessage({ from: 'scans@example.com', to: 'alice@example.com' });
    expect((await scan(b, ['alice@example.com'], message)).final).toMatch(/^250 2\.0\.0 /);
    expect(gmailCalls).toHaveLength(1);
    expect(gmailCalls[0]!.user).toBe('scans@example.com');
    expect(gmailCalls[0]!.raw.toString('utf8')).toBe(message.endsWith('\r\n') ? message : `${message}\r\n`);
  });

  it('gmail-api rate limit (429 rateLimitExceeded): 451 4.4.5', async () => {
    gmailReply = () =>
      HttpResponse.json(
        { error: { code: 429, message: 'Rate Limit Exceeded', errors: [{ reason: 'rateLimitExceeded', domain: 'usageLimits' }] } },
        { status: 429 },
      );
    const b = await officeBridge({ strategy: 'gmail-api', retry: false });
    expect((await scan(b)).final).toMatch(/^451 4\.4\.5 /);
    expect(messageLogs(b.logs)[0]).toMatchObject({ outcome: 'deferred', upstreamCode: 'RATE_LIMITED' });
  });

  it('gmail-api cannot honour an envelope recipient missing from the headers (a Bcc): 554 5.3.3, not a silent skip', async () => {
    const b = await officeBridge({ strategy: 'gmail-api' });
    const message = scanMessage({ from: 'scans@example.com', to: 'alice@example.com' });
    const result = await scan(b, ['alice@example.com', 'hidden@example.com'], message);
    expect(result.final).toMatch(/^554 5\.3\.3 /);
    expect(gmailCalls).toHaveLength(0);
    expect(messageLogs(b.logs)[0]).toMatchObject({ outcome: 'rejected', upstreamCode: 'CONFIG_INVALID' });
  });
});
