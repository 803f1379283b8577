import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    expect(accepting.authAttempts.slice(logins)).toEqual([expect.objectContaining({ method: 'PLAIN', username: 'me@gmail.com', password: APP_PASSWORD_COMPACT, secure: true })]);
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
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { code: 'AUTH_INVALID_CREDENTIALS', phase: 'auth', responseCode: 535, enhancedCode: '5.7.8', retryable: false } });
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
    await writeFile(configFile('relay.json'), JSON.stringify({ strategy: 'ip-relay', domain: 'example.com', smtp: { host: '127.0.0.1', port: accepting.port, secure: true } }));
    const noSender = await run(['--config', configFile('relay.json'), '--send-to', 'you@example.com']);
    expect(noSender.code).toBe(2);
    expect(noSender.stderr).toMatch(/--send-to needs --from/);
    const both = await run(['--config', 'x.json', '--env-prefix', 'X_']);
    expect(both.code).toBe(2);
  });
});
