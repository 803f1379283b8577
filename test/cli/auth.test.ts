import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { CliStdin } from '../../src/cli/io.js';
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
let tokenReply: () => Response = () =>
  HttpResponse.json({ access_token: ACCESS, expires_in: 3599, refresh_token: REFRESH, scope: 'https://mail.google.com/', token_type: 'Bearer' });

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
    if (form.get('client_id') !== acceptedClientId || form.get('client_secret') !== CLIENT_SECRET) {
      return HttpResponse.json(fixture('token-401-invalid-client-unauthorized').body, { status: 401 });
    }
    if (
      form.get('grant_type') !== 'authorization_code' ||
      form.get('code') !== CODE ||
      form.get('redirect_uri') !== seen.consent?.searchParams.get('redirect_uri')
    ) {
      return HttpResponse.json(fixture('token-400-invalid-grant-bad-request').body, { status: 400 });
    }
    return tokenReply();
  });

/** The client id the fake endpoint knows. */
let acceptedClientId = CLIENT_ID;

/** Whose the access token is, as the Gmail API's users.getProfile tells it. */
let account = 'me@example.com';
let profileReply: () => Response = () => HttpResponse.json({ emailAddress: account, messagesTotal: 1, threadsTotal: 1, historyId: '1' });
const profileRequests: (string | null)[] = [];

const mock = setupServer(
  tokenEndpoint(GOOGLE_TOKEN),
  tokenEndpoint('https://token.test.example/token'),
  http.get('https://gmail.googleapis.com/gmail/v1/users/me/profile', ({ request }) => {
    profileRequests.push(request.headers.get('authorization'));
    return profileReply();
  }),
);

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
  account = 'me@example.com';
  acceptedClientId = CLIENT_ID;
  profileReply = () => HttpResponse.json({ emailAddress: account, messagesTotal: 1, threadsTotal: 1, historyId: '1' });
  profileRequests.length = 0;
  tokenReply = () =>
    HttpResponse.json({ access_token: ACCESS, expires_in: 3599, refresh_token: REFRESH, scope: 'https://mail.google.com/', token_type: 'Bearer' });
});
afterAll(() => mock.close());

interface Page {
  status: number;
  body: string;
}

/** Runs the CLI in-process; `browse` plays the user's browser once the consent URL is known. */
async function runAuth(
  args: string[],
  browse: (url: URL) => Promise<Page[]>,
  opts: { env?: Record<string, string>; cwd?: string; noBrowser?: boolean; stdin?: CliStdin } = {},
) {
  let stdout = '';
  let stderr = '';
  let opened = 0;
  let gotUrl: (url: URL) => void = () => {};
  let urlSeen = false;
  const urlKnown = new Promise<URL>((resolve) => (gotUrl = resolve)).then((url) => {
    urlSeen = true;
    return url;
  });
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
    ...(opts.stdin ? { stdin: opts.stdin } : {}),
  };
  const pages = urlKnown.then((url) => {
    seen.consent = url;
    return browse(url);
  });
  const code = await main(['auth', ...args], io);
  // Once the browser had the URL, its visits end with the command (the listener answers every
  // request before it closes); without a URL (a wrong command line) there are none.
  await new Promise<void>((resolve) => setImmediate(resolve));
  const visited = urlSeen ? await pages : [];
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
      await writeFile(
        join(dir, 'client.json'),
        JSON.stringify({ installed: { client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: ['http://localhost'] } }),
      );
      const run = await runAuth(
        [
          '--client-file',
          'client.json',
          '--json',
          '--auth-endpoint',
          'https://consent.test.example/auth',
          '--token-endpoint',
          'https://token.test.example/token',
        ],
        approve,
        { cwd: dir },
      );
      expect(run.code).toBe(0);
      expect(seen.consent!.origin).toBe('https://consent.test.example');
      const result = JSON.parse(run.stdout) as Record<string, unknown>;
      expect(result).toMatchObject({
        ok: true,
        clientId: CLIENT_ID,
        refreshToken: REFRESH,
        scope: 'https://mail.google.com/',
        config: { strategy: 'oauth2', refreshToken: { env: 'GMAIL_REFRESH_TOKEN' } },
      });
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
    const declined = await runAuth(['--client-id', CLIENT_ID, '--client-secret', CLIENT_SECRET], async (url) => [
      await redirect(url, { error: 'access_denied', state: url.searchParams.get('state')! }),
    ]);
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

describe('gmail-transport auth: the granted account (issue 25)', () => {
  it('asks the Gmail API whose the token is and refuses another account than --user: nothing written, nothing printed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gmail-transport-auth-'));
    try {
      const out = join(dir, 'refresh-token');
      await writeFile(out, 'old token\n');
      account = 'someone.else@example.com';
      const run = await runAuth(['--client-id', CLIENT_ID, '--user', 'me@example.com', '--out', out], approve, { env: { GMAIL_CLIENT_SECRET: CLIENT_SECRET } });
      expect(run.code).toBe(1);
      expect(profileRequests).toEqual([`Bearer ${ACCESS}`]);
      expect(run.stderr).toMatch(/FAILED ACCOUNT_MISMATCH/);
      expect(run.stderr).toContain('Google granted access for someone.else@example.com, not for me@example.com; nothing was written');
      expect(run.stderr).toMatch(/hint: Run the command again and sign in as me@example.com/);
      expect(await readFile(out, 'utf8')).toBe('old token\n');
      expect(run.stdout).toBe('');
      expect(run.pages[0]).toMatchObject({ status: 400 });
      expect(run.pages[0]!.body).toMatch(/ACCOUNT_MISMATCH: the token was not kept/);
      expect(run.stderr + run.pages[0]!.body).not.toContain(REFRESH);
      expectNoSecrets(run.stdout, run.stderr, run.pages[0]!.body);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('--json reports the mismatch as { ok: false, error }', async () => {
    account = 'intruder@example.org';
    const run = await runAuth(['--client-id', CLIENT_ID, '--user', 'me@example.com', '--json'], approve, { env: { GMAIL_CLIENT_SECRET: CLIENT_SECRET } });
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toEqual({
      ok: false,
      error: { code: 'ACCOUNT_MISMATCH', message: expect.stringContaining('intruder@example.org'), hint: expect.any(String) },
    });
    expect(run.stdout).not.toContain(REFRESH);
  });

  it('the same account written another way passes: case, and dots or googlemail.com for consumer Gmail', async () => {
    account = 'john.doe@gmail.com';
    const run = await runAuth(['--client-id', CLIENT_ID, '--user', 'JohnDoe@googlemail.com', '--json'], approve, {
      env: { GMAIL_CLIENT_SECRET: CLIENT_SECRET },
    });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      ok: true,
      account: 'john.doe@gmail.com',
      refreshToken: REFRESH,
      config: { user: 'JohnDoe@googlemail.com' },
    });
  });

  it('without --user, the granted account fills the printed config', async () => {
    account = 'granted@example.com';
    const run = await runAuth(['--client-id', CLIENT_ID], approve, { env: { GMAIL_CLIENT_SECRET: CLIENT_SECRET } });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Access granted by granted@example\.com/);
    expect(run.stdout).toContain('GMAIL_USER=granted@example.com');
    expect(run.stdout).toContain('"user": "granted@example.com"');
  });

  it('an account that cannot be confirmed (Gmail API not enabled) is a refusal with --user, and a note without it', async () => {
    profileReply = () =>
      HttpResponse.json(
        {
          error: {
            code: 403,
            message: 'Gmail API has not been used in project 123 before or it is disabled.',
            errors: [{ reason: 'accessNotConfigured' }],
            status: 'PERMISSION_DENIED',
          },
        },
        { status: 403 },
      );
    const refused = await runAuth(['--client-id', CLIENT_ID, '--user', 'me@example.com'], approve, { env: { GMAIL_CLIENT_SECRET: CLIENT_SECRET } });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/FAILED ACCOUNT_UNCONFIRMED/);
    expect(refused.stderr).toMatch(
      /Could not confirm that me@example\.com granted access \(OAUTH_INVALID_CLIENT: .*HTTP 403 accessNotConfigured.*\); nothing was written/,
    );
    expect(refused.stderr).toMatch(/hint: The Gmail API is not enabled for this Google Cloud project.*run without --user/);
    expect(refused.stdout).not.toContain(REFRESH);

    const noted = await runAuth(['--client-id', CLIENT_ID], approve, { env: { GMAIL_CLIENT_SECRET: CLIENT_SECRET } });
    expect(noted.code).toBe(0);
    expect(noted.stderr).toMatch(/Note: could not ask Google which account granted access \(OAUTH_INVALID_CLIENT/);
    expect(noted.stdout).toContain('GMAIL_USER=you@example.com');
    expectNoSecrets(refused.stdout, refused.stderr, noted.stderr);
  });

  it('a --user that is not an address is a wrong command line, before any network', async () => {
    const run = await runAuth(['--client-id', CLIENT_ID, '--user', 'me'], async () => [], { env: { GMAIL_CLIENT_SECRET: CLIENT_SECRET } });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--user must be an e-mail address/);
    expect(run.opened).toBe(0);
  });
});

describe('gmail-transport auth: where the client secret comes from (issue 25)', () => {
  const ARGV_WARNING = /Warning: --client-secret puts the secret on the command line, where other users of this machine can read it \(ps\)/;

  it('--help offers the file, standard input and the environment before --client-secret, which it discourages', async () => {
    const run = await runAuth(['--help'], async () => []);
    expect(run.code).toBe(0);
    const help = run.stdout;
    const at = (text: string) => help.indexOf(text);
    for (const source of ['--client-file FILE', '--client-secret-file FILE', '--client-secret-stdin', '$GMAIL_CLIENT_SECRET']) {
      expect(at(source), source).toBeGreaterThan(-1);
      expect(at(source), source).toBeLessThan(at('--client-secret SECRET'));
    }
    expect(help).toMatch(/--client-secret SECRET\s+discouraged: other users of this machine can read the command\s+line \(ps\)/);
  });

  it('--client-secret on the command line still works, with a warning', async () => {
    const run = await runAuth(['--client-id', CLIENT_ID, '--client-secret', CLIENT_SECRET], approve);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(ARGV_WARNING);
    expect(seen.tokenRequests[0]!.get('client_secret')).toBe(CLIENT_SECRET);
  });

  it('--client-secret-file: a byte-order mark and surrounding whitespace are not part of the secret; no warning', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gmail-transport-auth-'));
    try {
      await writeFile(join(dir, 'client-secret'), `\uFEFF  ${CLIENT_SECRET} \r\n`);
      const run = await runAuth(['--client-id', CLIENT_ID, '--client-secret-file', 'client-secret'], approve, { cwd: dir });
      expect(run.code).toBe(0);
      expect(seen.tokenRequests[0]!.get('client_secret')).toBe(CLIENT_SECRET);
      expect(run.stderr).not.toMatch(/Warning/);
      expectNoSecrets(run.stdout, run.stderr);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('--client-secret-stdin, piped: the secret is read from standard input', async () => {
    const run = await runAuth(['--client-id', CLIENT_ID, '--client-secret-stdin'], approve, { stdin: Readable.from([Buffer.from(`${CLIENT_SECRET}\n`)]) });
    expect(run.code).toBe(0);
    expect(seen.tokenRequests[0]!.get('client_secret')).toBe(CLIENT_SECRET);
    expect(run.stderr).not.toMatch(/Warning/);
  });

  it('--client-secret-stdin on a terminal: typed without echo after a prompt', async () => {
    const tty = Object.assign(new PassThrough(), {
      isTTY: true,
      rawModes: [] as boolean[],
      setRawMode(raw: boolean) {
        tty.rawModes.push(raw);
      },
    });
    tty.write(`${CLIENT_SECRET}x\u007f\r`);
    const run = await runAuth(['--client-id', CLIENT_ID, '--client-secret-stdin'], approve, { stdin: tty });
    expect(run.code).toBe(0);
    expect(tty.rawModes).toEqual([true, false]);
    expect(run.stderr).toContain('Client secret (not shown): \n');
    expect(seen.tokenRequests[0]!.get('client_secret')).toBe(CLIENT_SECRET);
    expectNoSecrets(run.stdout, run.stderr);
  });

  it('GMAIL_CLIENT_SECRET from the environment: no warning', async () => {
    const run = await runAuth(['--client-id', CLIENT_ID], approve, { env: { GMAIL_CLIENT_SECRET: CLIENT_SECRET } });
    expect(run.code).toBe(0);
    expect(run.stderr).not.toMatch(/Warning/);
  });

  it('refuses two sources at once, and an unreadable, empty or non-regular secret file, before any network', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gmail-transport-auth-'));
    try {
      const two = await runAuth(['--client-id', CLIENT_ID, '--client-secret', CLIENT_SECRET, '--client-secret-stdin'], async () => []);
      expect(two.code).toBe(2);
      expect(two.stderr).toMatch(/give the client secret one way only, not --client-secret and --client-secret-stdin/);
      const withFile = await runAuth(['--client-file', 'c.json', '--client-secret-file', 'x'], async () => [], { cwd: dir });
      expect(withFile.code).toBe(2);
      expect(withFile.stderr).toMatch(/either --client-file or --client-id with a client secret/);

      await writeFile(join(dir, 'empty'), ' \n');
      execFileSync('mkfifo', [join(dir, 'fifo')]);
      for (const [file, message] of [
        ['missing', /--client-secret-file .*missing cannot be read \(ENOENT\)/],
        ['empty', /--client-secret-file .*empty is empty/],
        ['fifo', /--client-secret-file .*fifo cannot be read \(not a regular file\)/],
      ] as const) {
        const run = await runAuth(['--client-id', CLIENT_ID, '--client-secret-file', file], async () => [], { cwd: dir });
        expect(run.code, file).toBe(1);
        expect(run.stderr).toMatch(/FAILED CONFIG_INVALID/);
        expect(run.stderr).toMatch(message);
        expect(run.opened).toBe(0);
      }
      expect(seen.tokenRequests).toHaveLength(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('gmail-transport auth: text from outside is filtered before it is printed (issue 25)', () => {
  it('a code-exchange error quoting a secret loses that text; control characters never reach the terminal', async () => {
    tokenReply = () => HttpResponse.json({ error: 'invalid_client', error_description: `client secret ${CLIENT_SECRET} does not match` }, { status: 401 });
    const echoed = await runAuth(['--client-id', CLIENT_ID, '--json'], approve, { env: { GMAIL_CLIENT_SECRET: CLIENT_SECRET } });
    expect(echoed.code).toBe(1);
    expect(JSON.parse(echoed.stdout)).toMatchObject({ ok: false, error: { code: 'OAUTH_INVALID_CLIENT', reason: 'invalid_client', httpStatus: 401 } });
    expect(JSON.parse(echoed.stdout).error.response).toBeUndefined();
    expectNoSecrets(echoed.stdout, echoed.stderr);

    tokenReply = () =>
      HttpResponse.json(
        { error: 'invalid_grant', error_description: `Malformed \u001b]0;owned\u0007auth ${CODE.slice(0, 5)}\u001b[2J code.\r` },
        { status: 400 },
      );
    const escaped = await runAuth(['--client-id', CLIENT_ID], approve, { env: { GMAIL_CLIENT_SECRET: CLIENT_SECRET } });
    expect(escaped.code).toBe(1);
    expect(escaped.stderr).toMatch(/FAILED OAUTH_INVALID_GRANT/);
    expect(escaped.stderr).toContain('response: Malformed ]0;ownedauth FAKE-[2J code.');
    expect(escaped.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);

    tokenReply = () => HttpResponse.json({ error: `unknown\u009b2J${CODE}`, error_description: 'x' }, { status: 400 });
    const reason = await runAuth(['--client-id', CLIENT_ID, '--json'], approve, { env: { GMAIL_CLIENT_SECRET: CLIENT_SECRET } });
    expect(JSON.parse(reason.stdout)).toMatchObject({ ok: false, error: { code: 'PERMANENT_FAILURE', httpStatus: 400 } });
    expectNoSecrets(reason.stdout, reason.stderr);
  });

  it('an address, a client id or a refresh token carrying escape sequences is printed without them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gmail-transport-auth-'));
    try {
      account = 'evil\u001b[2J\u001b]0;pwned\u0007@example.com';
      const refused = await runAuth(['--client-id', CLIENT_ID, '--user', 'me@example.com'], approve, { env: { GMAIL_CLIENT_SECRET: CLIENT_SECRET } });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('Google granted access for evil[2J]0;pwned@example.com, not for me@example.com');

      // A client file from elsewhere, and a token endpoint that answers with a refresh token to match.
      account = 'me@example.com';
      acceptedClientId = `${CLIENT_ID}\u001b[8m`;
      tokenReply = () =>
        HttpResponse.json({
          access_token: ACCESS,
          expires_in: 3599,
          refresh_token: `${REFRESH}\u009b1;1H`,
          scope: 'https://mail.google.com/',
          token_type: 'Bearer',
        });
      await writeFile(join(dir, 'client.json'), JSON.stringify({ installed: { client_id: acceptedClientId, client_secret: CLIENT_SECRET } }));
      const printed = await runAuth(['--client-file', 'client.json'], approve, { cwd: dir });
      expect(printed.code).toBe(0);
      expect(printed.stdout).toContain(`GMAIL_CLIENT_ID=${CLIENT_ID}[8m`);
      expect(printed.stdout).toContain(`  ${REFRESH}1;1H`);
      for (const text of [refused.stdout, refused.stderr, printed.stdout, printed.stderr])
        expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('gmail-transport auth: --out and --timeout are checked before the consent (issue 25)', () => {
  it('--out naming a directory is refused before the consent, not after it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gmail-transport-auth-'));
    try {
      const run = await runAuth(['--client-id', CLIENT_ID, '--out', dir], approve, { env: { GMAIL_CLIENT_SECRET: CLIENT_SECRET } });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/FAILED CONFIG_INVALID[\s\S]*--out .* is a directory/);
      expect(run.opened).toBe(0);
      expect(seen.tokenRequests).toHaveLength(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('--timeout past the longest a timer can wait is refused; the longest is accepted', async () => {
    for (const value of ['2147483648ms', '35792m', '99999999999999999999s']) {
      const run = await runAuth(['--client-id', CLIENT_ID, '--timeout', value], async () => [], { env: { GMAIL_CLIENT_SECRET: CLIENT_SECRET } });
      expect(run.code, value).toBe(2);
      expect(run.stderr).toMatch(/--timeout must be at most 35791m \(about 24 days, the longest a timer can wait\)/);
      expect(run.opened).toBe(0);
    }
    const longest = await runAuth(['--client-id', CLIENT_ID, '--timeout', '2147483647ms'], approve, { env: { GMAIL_CLIENT_SECRET: CLIENT_SECRET } });
    expect(longest.code).toBe(0);
    expect(longest.stderr).toMatch(/up to 2147484 s/);
  });
});
