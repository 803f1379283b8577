import { createHash } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import replies from '../fixtures/google-replies.json' with { type: 'json' };

const CLIENT_ID = '1234-test.apps.googleusercontent.com';
const CLIENT_SECRET = 'FAKE-CLIENT-SECRET-91c2';
const REFRESH = 'FAKE-REFRESH-7f3a';
const ACCESS = 'FAKE-ACCESS-TOKEN-c3d9';
const CODE = 'FAKE-AUTH-CODE-5e0b';
const GOOGLE_TOKEN = 'https://oauth2.googleapis.com/token';

type Fixture = { id: string; reply: { status: number; body: Record<string, string> } };
const fixture = (id: string): Fixture['reply'] => (replies as unknown as Fixture[]).find((r) => r.id === id)!.reply;

/** What the fake Google saw: the consent URL the browser opened and each token request. */
interface Seen {
  consent?: URL;
  tokenRequests: URLSearchParams[];
}
let seen: Seen = { tokenRequests: [] };
let tokenReply: () => Response = () => HttpResponse.json({ access_token: ACCESS, expires_in: 3599, refresh_token: REFRESH, scope: 'https://mail.google.com/', token_type: 'Bearer' });

/** Google's token endpoint: refuses a verifier that does not hash to the challenge, or wrong client credentials. */
const tokenEndpoint = (url: string) =>
  http.post(url, async ({ request }) => {
    const form = new URLSearchParams(await request.text());
    seen.tokenRequests.push(form);
    const challenge = seen.consent?.searchParams.get('code_challenge');
    const verifier = form.get('code_verifier') ?? '';
    if (createHash('sha256').update(verifier).digest('base64url') !== challenge || !/^[A-Za-z0-9\-._~]{43,128}$/.test(verifier)) {
      return HttpResponse.json({ error: 'invalid_grant', error_description: 'Invalid code verifier.' }, { status: 400 });
    }
    if (form.get('client_id') !== CLIENT_ID || form.get('client_secret') !== CLIENT_SECRET) {
      return HttpResponse.json(fixture('token-401-invalid-client-unauthorized').body, { status: 401 });
    }
    if (form.get('grant_type') !== 'authorization_code' || form.get('code') !== CODE || form.get('redirect_uri') !== seen.consent?.searchParams.get('redirect_uri')) {
      return HttpResponse.json(fixture('token-400-invalid-grant-bad-request').body, { status: 400 });
    }
    return tokenReply();
  });

const mock = setupServer(tokenEndpoint(GOOGLE_TOKEN), tokenEndpoint('https://token.test.example/token'));

beforeAll(() =>
  mock.listen({
    // The test plays the browser on the CLI's loopback listener: those requests are real.
    onUnhandledRequest: (request, print) => {
      if (new URL(request.url).hostname !== '127.0.0.1') print.error();
    },
  }),
);
afterEach(() => {
  seen = { tokenRequests: [] };
  tokenReply = () => HttpResponse.json({ access_token: ACCESS, expires_in: 3599, refresh_token: REFRESH, scope: 'https://mail.google.com/', token_type: 'Bearer' });
});
afterAll(() => mock.close());

interface Page {
  status: number;
  body: string;
}

/** Runs the CLI in-process; `browse` plays the user's browser once the consent URL is known. */
async function runAuth(args: string[], browse: (url: URL) => Promise<Page[]>, opts: { env?: Record<string, string>; cwd?: string; noBrowser?: boolean } = {}) {
  let stdout = '';
  let stderr = '';
  let opened = 0;
  let gotUrl: (url: URL) => void = () => {};
  const urlKnown = new Promise<URL>((resolve) => (gotUrl = resolve));
  const io = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: {
      write: (s: string) => {
        stderr += s;
        // Parse the URL the way a user reads it off the terminal.
        const printed = /^\s+(https?:\/\/\S+auth\S*)$/m.exec(stderr);
        if (printed && opts.noBrowser) gotUrl(new URL(printed[1]!));
      },
    },
    env: opts.env ?? {},
    cwd: opts.cwd ?? process.cwd(),
    openBrowser: (url: string) => {
      opened++;
      gotUrl(new URL(url));
    },
  };
  const pages = urlKnown.then((url) => {
    seen.consent = url;
    return browse(url);
  });
  const code = await main(['auth', ...args], io);
  const visited = await Promise.race([pages, new Promise<Page[]>((resolve) => setTimeout(() => resolve([]), 50))]);
  return { code, stdout, stderr, opened, pages: visited };
}

/** A GET on the redirect URI, as the browser makes it after Google's consent page. */
async function redirect(consent: URL, params: Record<string, string>, path = '/'): Promise<Page> {
  const target = new URL(path, consent.searchParams.get('redirect_uri')!);
  for (const [k, v] of Object.entries(params)) target.searchParams.set(k, v);
  const res = await fetch(target);
  return { status: res.status, body: await res.text() };
}

const approve = async (url: URL) => [await redirect(url, { code: CODE, state: url.searchParams.get('state')!, scope: 'https://mail.google.com/' })];

function expectNoSecrets(...texts: string[]): void {
  const all = texts.join('\n');
  for (const secret of [CLIENT_SECRET, CODE, ACCESS]) expect(all).not.toContain(secret);
  const verifier = seen.tokenRequests[0]?.get('code_verifier');
  if (verifier) expect(all).not.toContain(verifier);
}

describe('gmail-transport auth', () => {
  it('runs the loopback + PKCE consent, refuses a wrong state, and prints the refresh token with a config', async () => {
    const run = await runAuth(['--client-id', CLIENT_ID, '--client-secret', CLIENT_SECRET, '--user', 'me@example.com'], async (url) => {
      const forged = await redirect(url, { code: 'FORGED', state: 'not-the-state' });
      const noState = await redirect(url, { code: 'FORGED' });
      const favicon = await redirect(url, {}, '/favicon.ico');
      return [forged, noState, favicon, ...(await approve(url))];
    });
    const url = seen.consent!;
    expect(`${url.origin}${url.pathname}`).toBe('https://accounts.google.com/o/oauth2/v2/auth');
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      client_id: CLIENT_ID,
      response_type: 'code',
      scope: 'https://mail.google.com/',
      access_type: 'offline',
      prompt: 'consent',
      code_challenge_method: 'S256',
      login_hint: 'me@example.com',
    });
    expect(url.searchParams.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get('state')!.length).toBeGreaterThanOrEqual(32);
    expect(url.searchParams.has('client_secret')).toBe(false);

    const [forged, noState, favicon, accepted] = run.pages;
    expect(forged).toMatchObject({ status: 400 });
    expect(forged!.body).toMatch(/state does not match/);
    expect(noState!.status).toBe(400);
    expect(favicon!.status).toBe(404);
    expect(accepted).toMatchObject({ status: 200 });
    expect(accepted!.body).toMatch(/Access granted/);
    expect(run.stderr).toMatch(/Refused a request to the redirect URI \(wrong state\)/);

    expect(run.code).toBe(0);
    expect(run.opened).toBe(1);
    expect(seen.tokenRequests).toHaveLength(1);
    expect(seen.tokenRequests[0]!.get('code')).toBe(CODE);
    expect(run.stdout).toContain(REFRESH);
    expect(run.stdout).toContain('GMAIL_REFRESH_TOKEN=FAKE-REFRESH-7f3a');
    expect(run.stdout).toContain('"clientSecret": {\n      "env": "GMAIL_CLIENT_SECRET"');
    expect(run.stdout).toContain('"user": "me@example.com"');
    expect(run.stderr).toMatch(/"Testing" publishing status.*7 days/);
    expect(run.stderr).not.toContain(REFRESH);
    expectNoSecrets(run.stdout, run.stderr, ...run.pages.map((p) => p.body));
  });

  it('with --no-browser and --out: the user copies the printed URL, the token goes to a 0600 file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gmail-transport-auth-'));
    try {
      const out = join(dir, 'refresh-token');
      await writeFile(out, 'old token\n');
      await chmod(out, 0o644);
      const run = await runAuth(['--no-browser', '--out', 'refresh-token', '--timeout', '30s'], approve, {
        env: { GMAIL_CLIENT_ID: CLIENT_ID, GMAIL_CLIENT_SECRET: CLIENT_SECRET },
        cwd: dir,
        noBrowser: true,
      });
      expect(run.code).toBe(0);
      expect(run.opened).toBe(0);
      expect(await readFile(out, 'utf8')).toBe(`${REFRESH}\n`);
      if (process.platform !== 'win32') expect((await stat(out)).mode & 0o777).toBe(0o600);
      expect(run.stdout).not.toContain(REFRESH);
      expect(run.stdout).toContain(`Refresh token written to ${out} (mode 0600)`);
      expect(run.stdout).toContain(`"file": "${out}"`);
      expectNoSecrets(run.stdout, run.stderr);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reads --client-file and prints JSON with --json; endpoints can be overridden', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gmail-transport-auth-'));
    try {
      await writeFile(join(dir, 'client.json'), JSON.stringify({ installed: { client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: ['http://localhost'] } }));
      const run = await runAuth(
        ['--client-file', 'client.json', '--json', '--auth-endpoint', 'https://consent.test.example/auth', '--token-endpoint', 'https://token.test.example/token'],
        approve,
        { cwd: dir },
      );
      expect(run.code).toBe(0);
      expect(seen.consent!.origin).toBe('https://consent.test.example');
      const result = JSON.parse(run.stdout) as Record<string, unknown>;
      expect(result).toMatchObject({ ok: true, clientId: CLIENT_ID, refreshToken: REFRESH, scope: 'https://mail.google.com/', config: { strategy: 'oauth2', refreshToken: { env: 'GMAIL_REFRESH_TOKEN' } } });
      expectNoSecrets(run.stdout, run.stderr);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('diagnoses a refused authorization code (invalid_grant) with a typed error and no secret', async () => {
    tokenReply = () => HttpResponse.json(fixture('token-400-invalid-grant-malformed-auth-code').body, { status: 400 });
    const run = await runAuth(['--client-id', CLIENT_ID, '--client-secret', CLIENT_SECRET], approve);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/FAILED OAUTH_INVALID_GRANT/);
    expect(run.stderr).toMatch(/HTTP 400, reason invalid_grant/);
    expect(run.stderr).toMatch(/hint: Google refused the authorization code/);
    expect(run.pages[0]).toMatchObject({ status: 400 });
    expect(run.pages[0]!.body).toMatch(/OAUTH_INVALID_GRANT/);
    expect(run.stdout).toBe('');
    expectNoSecrets(run.stdout, run.stderr, run.pages[0]!.body);
  });

  it('diagnoses a wrong client secret (invalid_client) as JSON', async () => {
    const run = await runAuth(['--client-id', CLIENT_ID, '--client-secret', 'FAKE-WRONG-SECRET-4411', '--json'], approve);
    expect(run.code).toBe(1);
    const { ok, error } = JSON.parse(run.stdout) as { ok: boolean; error: Record<string, unknown> };
    expect(ok).toBe(false);
    expect(error).toMatchObject({ code: 'OAUTH_INVALID_CLIENT', httpStatus: 401, reason: 'invalid_client', phase: 'token', retryable: false });
    expect(String(error.hint)).toMatch(/clientId and clientSecret/);
    expect(run.stdout + run.stderr).not.toContain('FAKE-WRONG-SECRET-4411');
    expectNoSecrets(run.stdout, run.stderr);
  });

  it('reports a declined consent and a consent without the Gmail scope as OAUTH_SCOPE_DENIED', async () => {
    const declined = await runAuth(['--client-id', CLIENT_ID, '--client-secret', CLIENT_SECRET], async (url) => [await redirect(url, { error: 'access_denied', state: url.searchParams.get('state')! })]);
    expect(declined.code).toBe(1);
    expect(declined.stderr).toMatch(/FAILED OAUTH_SCOPE_DENIED[\s\S]*access_denied[\s\S]*test users/);
    expect(seen.tokenRequests).toHaveLength(0);

    tokenReply = () => HttpResponse.json({ access_token: ACCESS, expires_in: 3599, refresh_token: REFRESH, scope: 'openid', token_type: 'Bearer' });
    const narrowed = await runAuth(['--client-id', CLIENT_ID, '--client-secret', CLIENT_SECRET], approve);
    expect(narrowed.code).toBe(1);
    expect(narrowed.stderr).toMatch(/FAILED OAUTH_SCOPE_DENIED/);
    expect(narrowed.stdout + narrowed.stderr).not.toContain(REFRESH);
  });

  it('gives up after --timeout with a diagnosis', async () => {
    const run = await runAuth(['--client-id', CLIENT_ID, '--client-secret', CLIENT_SECRET, '--timeout', '300ms'], async () => []);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/FAILED CONSENT_TIMEOUT[\s\S]*redirect_uri_mismatch/);
  });

  it('refuses a wrong command line with exit code 2, before any network', async () => {
    const cases: [string[], RegExp][] = [
      [['--client-id', CLIENT_ID], /--client-file, or --client-id and --client-secret/],
      [['--client-id', CLIENT_ID, '--client-secret', CLIENT_SECRET, '--token-endpoint', 'http://token.example.com/token'], /--token-endpoint must use https/],
      [['--client-id', CLIENT_ID, '--client-secret', CLIENT_SECRET, '--timeout', '300'], /--timeout takes a duration with its unit/],
      [['--client-id', CLIENT_ID, '--client-secret', CLIENT_SECRET, 'stray-positional-FAKE'], /unexpected argument/],
      [['--client-file', 'x.json', '--client-id', CLIENT_ID], /either --client-file or/],
    ];
    for (const [args, message] of cases) {
      const run = await runAuth(args, async () => []);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).not.toContain(CLIENT_SECRET);
      expect(run.stderr).not.toContain('stray-positional-FAKE');
    }
    expect(seen.tokenRequests).toHaveLength(0);
  });

  it('reports an unusable --client-file by name, never by content', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gmail-transport-auth-'));
    try {
      await writeFile(join(dir, 'other.json'), JSON.stringify({ type: 'service_account', private_key: 'FAKE-PRIVATE-KEY-0b8d' }));
      const wrongKind = await runAuth(['--client-file', 'other.json'], async () => [], { cwd: dir });
      expect(wrongKind.code).toBe(1);
      expect(wrongKind.stderr).toMatch(/FAILED CONFIG_INVALID[\s\S]*--client-file .*other\.json has neither an "installed" nor a "web" section/);
      expect(wrongKind.stderr).not.toContain('FAKE-PRIVATE-KEY-0b8d');
      const missing = await runAuth(['--client-file', 'missing.json', '--json'], async () => [], { cwd: dir });
      expect(JSON.parse(missing.stdout)).toMatchObject({ ok: false, error: { code: 'CONFIG_INVALID', issues: [{ path: '--client-file' }] } });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
