import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { startRecordingServer, type RecordingServer } from '../helpers/smtp-server.js';

// A unique 16-letter marker, given in Google's display form (four groups).
const APP_PASSWORD = 'fake apps ecre txyz';
const APP_PASSWORD_COMPACT = 'fakeappsecretxyz';

async function run(args: string[], env: Record<string, string> = {}, cwd = process.cwd()) {
  let stdout = '';
  let stderr = '';
  const code = await main(['verify', ...args], {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env,
    cwd,
    openBrowser: () => {
      throw new Error('verify must not open a browser');
    },
  });
  const output = stdout + stderr;
  expect(output).not.toContain(APP_PASSWORD);
  expect(output).not.toContain(APP_PASSWORD_COMPACT);
  return { code, stdout, stderr };
}

describe('gmail-transport verify', () => {
  let dir: string;
  let accepting: RecordingServer;
  let refusing: RecordingServer;
  const configFile = (name: string) => join(dir, name);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gmail-transport-verify-'));
    accepting = await startRecordingServer({ secure: true });
    refusing = await startRecordingServer({ secure: true, checkAuth: () => false });
    await writeFile(join(dir, 'ca.pem'), accepting.cert);
    for (const [name, server] of [
      ['ok.json', accepting],
      ['refused.json', refusing],
    ] as const) {
      await writeFile(
        configFile(name),
        JSON.stringify({
          strategy: 'app-password',
          user: 'me@gmail.com',
          appPassword: { env: 'TEST_GMAIL_APP_PASSWORD' },
          smtp: { host: '127.0.0.1', port: server.port, secure: true, tls: { ca: [{ file: 'ca.pem' }] } },
        }),
      );
    }
  });
  afterAll(async () => {
    await accepting.close();
    await refusing.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('connects and authenticates with a JSON config whose secret comes from the environment, sending nothing', async () => {
    const logins = accepting.authAttempts.length;
    const messages = accepting.messages.length;
    const result = await run(['--config', configFile('ok.json')], { TEST_GMAIL_APP_PASSWORD: APP_PASSWORD });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/verify: OK \(strategy app-password, user me@gmail\.com\): connected and authenticated/);
    expect(result.stdout).toMatch(/Nothing was sent/);
    expect(accepting.authAttempts.slice(logins)).toEqual([
      expect.objectContaining({ method: 'PLAIN', username: 'me@gmail.com', password: APP_PASSWORD_COMPACT, secure: true }),
    ]);
    expect(accepting.messages.length).toBe(messages);
  });

  it('sends one test message with --send-to and reports it as JSON', async () => {
    const messages = accepting.messages.length;
    const result = await run(['--config', 'ok.json', '--send-to', 'you@example.com', '--json'], { TEST_GMAIL_APP_PASSWORD: APP_PASSWORD }, dir);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { ok: boolean; strategy: string; sent: { messageId: string; accepted: string[] } };
    expect(report).toMatchObject({ ok: true, strategy: 'app-password', sent: { accepted: ['you@example.com'] } });
    expect(accepting.messages.length).toBe(messages + 1);
    const got = accepting.messages.at(-1)!;
    expect(got.envelope).toEqual({ from: 'me@gmail.com', to: ['you@example.com'] });
    expect(got.parsed.subject).toBe('gmail-transport verify');
    expect(got.parsed.messageId).toBe(report.sent.messageId);
  });

  it('diagnoses a refused login with code, phase, response and hint, exit code 1', async () => {
    const result = await run(['--config', configFile('refused.json'), '--send-to', 'you@example.com'], { TEST_GMAIL_APP_PASSWORD: APP_PASSWORD });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/verify: FAILED AUTH_INVALID_CREDENTIALS/);
    expect(result.stderr).toMatch(/strategy app-password, phase auth/);
    expect(result.stderr).toMatch(/The server refused the login: 535 5\.7\.8 Username and Password not accepted/);
    expect(result.stderr).toMatch(/hint: Google refused the app password/);
    expect(refusing.messages).toHaveLength(0);

    const json = await run(['--config', configFile('refused.json'), '--json'], { TEST_GMAIL_APP_PASSWORD: APP_PASSWORD });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: false,
      error: { code: 'AUTH_INVALID_CREDENTIALS', phase: 'auth', responseCode: 535, enhancedCode: '5.7.8', retryable: false },
    });
  });

  it('names a missing secret reference by field and variable, before any connection', async () => {
    const connections = accepting.connections;
    const result = await run(['--config', configFile('ok.json')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/FAILED CONFIG_INVALID[\s\S]*- appPassword refers to environment variable TEST_GMAIL_APP_PASSWORD, which is not set/);
    expect(accepting.connections).toBe(connections);
  });

  it('takes the config from GMAIL_* variables, and names the variable of an invalid field', async () => {
    const env = {
      GMAIL_USER: 'me@gmail.com',
      GMAIL_APP_PASSWORD: APP_PASSWORD,
      GMAIL_SMTP_HOST: '127.0.0.1',
      GMAIL_SMTP_PORT: String(accepting.port),
      GMAIL_SMTP_SECURE: 'true',
      GMAIL_SMTP_CA_FILE: join(dir, 'ca.pem'),
    };
    const ok = await run([], env);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/OK \(strategy app-password/);

    const bad = await run([], { ...env, GMAIL_APP_PASSWORD: 'FAKE-ACCOUNT-PASSWORD-77aa', GMAIL_USER: 'not-an-address' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/- appPassword \(GMAIL_APP_PASSWORD\) is not an app password/);
    expect(bad.stderr).toMatch(/- user \(GMAIL_USER\) must be an e-mail address/);
    expect(bad.stderr).not.toContain('FAKE-ACCOUNT-PASSWORD-77aa');

    const prefixed = await run(['--env-prefix', 'MAILER_'], { MAILER_STRATEGY: 'app-password', MAILER_USER: 'me@gmail.com' });
    expect(prefixed.code).toBe(1);
    expect(prefixed.stderr).toMatch(/- appPassword \(MAILER_APP_PASSWORD\) is required/);
  });

  it('refuses --send-to without a sender, and --config with --env-prefix, with exit code 2', async () => {
    await writeFile(
      configFile('relay.json'),
      JSON.stringify({ strategy: 'ip-relay', domain: 'example.com', smtp: { host: '127.0.0.1', port: accepting.port, secure: true } }),
    );
    const noSender = await run(['--config', configFile('relay.json'), '--send-to', 'you@example.com']);
    expect(noSender.code).toBe(2);
    expect(noSender.stderr).toMatch(/--send-to needs --from/);
    const both = await run(['--config', 'x.json', '--env-prefix', 'X_']);
    expect(both.code).toBe(2);
  });
});

describe('gmail-transport verify with oauth2', () => {
  const CLIENT_SECRET = 'FAKE-CLIENT-SECRET-91c2';
  const REFRESH = 'FAKE-REFRESH-7f3a';
  const ACCESS = 'FAKE-ACCESS-TOKEN-c3d9';
  const TOKEN_URL = 'https://oauth2.test.example/token';
  let dir: string;
  let server: RecordingServer;
  let grant: 'ok' | 'invalid_grant' = 'ok';
  const google = setupServer(
    http.post(TOKEN_URL, async ({ request }) => {
      const form = new URLSearchParams(await request.text());
      if (grant === 'invalid_grant' || form.get('refresh_token') !== REFRESH || form.get('client_secret') !== CLIENT_SECRET) {
        return HttpResponse.json({ error: 'invalid_grant', error_description: 'Token has been expired or revoked.' }, { status: 400 });
      }
      return HttpResponse.json({ access_token: ACCESS, expires_in: 3599, scope: 'https://mail.google.com/', token_type: 'Bearer' });
    }),
  );

  beforeAll(async () => {
    google.listen({ onUnhandledRequest: 'error' });
    dir = await mkdtemp(join(tmpdir(), 'gmail-transport-verify-oauth2-'));
    server = await startRecordingServer({
      secure: true,
      checkAuth: (auth) => (auth.method === 'XOAUTH2' && auth.accessToken === ACCESS ? true : 'xoauth2-reject'),
    });
    await writeFile(join(dir, 'ca.pem'), server.cert);
    // What `gmail-transport auth --out refresh-token` leaves behind.
    await writeFile(join(dir, 'refresh-token'), `${REFRESH}\n`, { mode: 0o600 });
    await writeFile(
      join(dir, 'gmail.json'),
      JSON.stringify({
        strategy: 'oauth2',
        user: 'me@example.com',
        clientId: '1234-test.apps.googleusercontent.com',
        clientSecret: { env: 'GMAIL_CLIENT_SECRET' },
        refreshToken: { file: 'refresh-token' },
        endpoints: { token: TOKEN_URL },
        smtp: { host: '127.0.0.1', port: server.port, secure: true, tls: { ca: [{ file: 'ca.pem' }] } },
      }),
    );
  });
  afterAll(async () => {
    google.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function verifyOAuth(args: string[] = [], file = 'gmail.json') {
    let stdout = '';
    let stderr = '';
    const code = await main(['verify', '--config', join(dir, file), ...args], {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      env: { GMAIL_CLIENT_SECRET: CLIENT_SECRET },
    });
    for (const secret of [CLIENT_SECRET, REFRESH, ACCESS]) expect(stdout + stderr).not.toContain(secret);
    return { code, stdout, stderr };
  }

  it('refreshes a token and logs in over XOAUTH2 with the refresh token from a file', async () => {
    const result = await verifyOAuth();
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/OK \(strategy oauth2, user me@example\.com\)/);
    expect(server.authAttempts.at(-1)).toMatchObject({ method: 'XOAUTH2', username: 'me@example.com', accessToken: ACCESS });
  });

  it('reports a revoked refresh token as OAUTH_INVALID_GRANT with the way to a new one', async () => {
    // Another user: the process-wide token cache holds the first test's token for me@example.com.
    const config = JSON.parse(await readFile(join(dir, 'gmail.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(dir, 'revoked.json'), JSON.stringify({ ...config, user: 'revoked@example.com' }));
    grant = 'invalid_grant';
    try {
      const result = await verifyOAuth(['--json'], 'revoked.json');
      expect(result.code).toBe(1);
      const { error } = JSON.parse(result.stdout) as { error: Record<string, unknown> };
      expect(error).toMatchObject({ code: 'OAUTH_INVALID_GRANT', retryable: false, strategy: 'oauth2' });
      expect(String(error.hint)).toMatch(/gmail-transport auth/);
    } finally {
      grant = 'ok';
    }
  });
});
