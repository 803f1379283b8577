import { execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig, isGmailTransportError, type GmailTransportError } from '../../src/index.js';

const SECRET_ENV = 'FAKE-CLIENT-SECRET-91c2';
const SECRET_FILE = 'FAKE-REFRESH-7f3a';
const SECRET_IN_BROKEN_JSON = 'FAKE-APP-PASSWORD-d41e';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gmail-transport-load-config-'));
  await mkdir(join(dir, 'conf'));
  await mkdir(join(dir, 'conf', 'secrets'));
  await writeFile(join(dir, 'conf', 'secrets', 'refresh'), `${SECRET_FILE}\n`);
  await writeFile(join(dir, 'conf', 'ca.pem'), 'CA-PEM\r\n');
  await writeFile(join(dir, 'conf', 'empty'), '\n');
  await writeFile(join(dir, 'refresh-at-cwd'), `${SECRET_FILE}-cwd\n`);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function leakText(err: unknown): string {
  return `${String(err)} ${JSON.stringify(err)} ${inspect(err, { depth: 5 })}`;
}

async function rejectionOf(promise: Promise<unknown>): Promise<GmailTransportError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isGmailTransportError(err)).toBe(true);
  return err as GmailTransportError;
}

describe('loadConfig', () => {
  it('replaces env and file references anywhere in a JSON file, files relative to the config file', async () => {
    const file = join(dir, 'conf', 'gmail.json');
    await writeFile(
      file,
      JSON.stringify({
        strategy: 'oauth2',
        user: 'me@example.com',
        clientId: '123.apps.googleusercontent.com',
        clientSecret: { env: 'TEST_CLIENT_SECRET' },
        refreshToken: { file: 'secrets/refresh' },
        smtp: { host: '127.0.0.1', port: 465, tls: { ca: [{ file: './ca.pem' }] } },
        pool: true,
      }),
    );
    const config = await loadConfig(file, { env: { TEST_CLIENT_SECRET: SECRET_ENV }, cwd: '/nonexistent' });
    expect(config).toEqual({
      strategy: 'oauth2',
      user: 'me@example.com',
      clientId: '123.apps.googleusercontent.com',
      clientSecret: SECRET_ENV,
      refreshToken: SECRET_FILE,
      smtp: { host: '127.0.0.1', port: 465, tls: { ca: ['CA-PEM'] } },
      pool: true,
    });
  });

  it('resolves a relative config path against cwd and a relative keyFile against the config folder', async () => {
    await writeFile(join(dir, 'conf', 'sa.json'), JSON.stringify({ strategy: 'service-account', user: 'a@example.com', keyFile: 'keys/sa.json' }));
    const config = await loadConfig<Record<string, unknown>>('conf/sa.json', { cwd: dir, env: {} });
    expect(config.keyFile).toBe(join(dir, 'conf', 'keys', 'sa.json'));
    const absolute = await loadConfig<Record<string, unknown>>({ strategy: 'service-account', keyFile: '/etc/sa.json' }, { env: {} });
    expect(absolute.keyFile).toBe('/etc/sa.json');
  });

  it('takes an object, resolves its file references against cwd and leaves the object untouched', async () => {
    const input = { strategy: 'app-password', user: 'me@gmail.com', appPassword: { file: 'refresh-at-cwd' }, transports: [{ pass: { env: 'X_PASS' } }] };
    const before = structuredClone(input);
    const config = await loadConfig<Record<string, unknown>>(input, { cwd: dir, env: { X_PASS: 'p' } });
    expect(config.appPassword).toBe(`${SECRET_FILE}-cwd`);
    expect(config.transports).toEqual([{ pass: 'p' }]);
    expect(input).toEqual(before);
  });

  it('reads process.env when no env is given', async () => {
    vi.stubEnv('GMAIL_TRANSPORT_TEST_SECRET', SECRET_ENV);
    try {
      const config = await loadConfig<Record<string, unknown>>({ strategy: 'relay', auth: { user: 'u', pass: { env: 'GMAIL_TRANSPORT_TEST_SECRET' } } });
      expect(config.auth).toEqual({ user: 'u', pass: SECRET_ENV });
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('lists every unusable reference by field path in one CONFIG_INVALID, never a value', async () => {
    const err = await rejectionOf(
      loadConfig(
        {
          strategy: 'oauth2',
          clientId: { env: 'SET_ONE' },
          clientSecret: { env: 'MISSING_SECRET' },
          refreshToken: { file: 'conf/nope' },
          user: { env: 'EMPTY_ONE' },
          smtp: { tls: { ca: [{ file: 'conf/empty' }] }, host: { env: 'H', file: 'x' } },
          transports: [{ pass: { env: 'not a name' } }, { pass: { file: 42 } }],
        },
        { cwd: dir, env: { SET_ONE: SECRET_ENV, EMPTY_ONE: '' } },
      ),
    );
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.retryable).toBe(false);
    const byPath = Object.fromEntries(err.issues!.map((i) => [i.path, i.message]));
    expect(Object.keys(byPath).sort()).toEqual(
      ['clientSecret', 'refreshToken', 'smtp.host', 'smtp.tls.ca[0]', 'transports[0].pass', 'transports[1].pass', 'user'].sort(),
    );
    expect(byPath.clientSecret).toBe('refers to environment variable MISSING_SECRET, which is not set');
    expect(byPath.user).toBe('refers to environment variable EMPTY_ONE, which is empty');
    expect(byPath.refreshToken).toBe(`refers to file ${join(dir, 'conf', 'nope')}, which cannot be read (ENOENT)`);
    expect(byPath['smtp.tls.ca[0]']).toMatch(/which is empty$/);
    expect(byPath['smtp.host']).toMatch(/exactly one key/);
    expect(err.message).toContain('clientSecret');
    expect(err.hint).toMatch(/\{ "env": "NAME" \}/);
    expect(leakText(err)).not.toContain(SECRET_ENV);
  });

  it('reports a missing or unreadable config file', async () => {
    const err = await rejectionOf(loadConfig(join(dir, 'missing.json')));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.issues).toEqual([{ path: 'config', message: `file ${join(dir, 'missing.json')} cannot be read (ENOENT)`, hint: expect.any(String) }]);
    const folder = await rejectionOf(loadConfig(dir));
    expect(folder.issues![0]!.message).toMatch(/cannot be read \(EISDIR\)/);
  });

  it('reports broken JSON by position without quoting the file, which may hold a secret', async () => {
    const file = join(dir, 'broken.json');
    await writeFile(file, `{\n  "appPassword": "${SECRET_IN_BROKEN_JSON}"\n  "user": "me@gmail.com"\n}`);
    const err = await rejectionOf(loadConfig(file));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.issues![0]!.path).toBe('config');
    expect(err.issues![0]!.message).toMatch(
      /^file .*broken\.json is not valid JSON \(line 3, column 3\): found a double quote \("\) where a comma or \} was expected$/,
    );
    expect(leakText(err)).not.toContain(SECRET_IN_BROKEN_JSON);
    expect(leakText(err)).not.toContain('FAKE-APP');
  });

  it('issue 25: a file secret loses its UTF-8 byte-order mark and surrounding whitespace; a config file its byte-order mark', async () => {
    await writeFile(join(dir, 'conf', 'secrets', 'windows'), `\uFEFF  ${SECRET_FILE}\t \r\n\r\n`);
    const file = join(dir, 'conf', 'bom.json');
    await writeFile(file, `\uFEFF${JSON.stringify({ strategy: 'oauth2', refreshToken: { file: 'secrets/windows' } })}\r\n`);
    const config = await loadConfig<Record<string, unknown>>(file, { env: {} });
    expect(config).toEqual({ strategy: 'oauth2', refreshToken: SECRET_FILE });
    // Only the outside: a secret with inner spaces (an app password in Google's groups) keeps them.
    await writeFile(join(dir, 'conf', 'secrets', 'grouped'), 'abcd efgh ijkl mnop\n');
    expect(await loadConfig<Record<string, unknown>>({ appPassword: { file: 'conf/secrets/grouped' } }, { cwd: dir, env: {} })).toEqual({
      appPassword: 'abcd efgh ijkl mnop',
    });
  });

  it('issue 25: a FIFO (or any file that is not a regular one) is refused at once instead of blocking forever', async () => {
    const fifo = join(dir, 'conf', 'secret-fifo');
    execFileSync('mkfifo', [fifo]);
    try {
      // No writer ever opens the FIFO: reading it the old way would wait for one forever.
      const err = await rejectionOf(loadConfig({ clientSecret: { file: fifo }, refreshToken: { file: '/dev/null' } }, { env: {} }));
      expect(err.issues).toEqual([
        { path: 'clientSecret', message: `refers to file ${fifo}, which cannot be read (not a regular file)`, hint: expect.any(String) },
        { path: 'refreshToken', message: 'refers to file /dev/null, which cannot be read (not a regular file)', hint: expect.any(String) },
      ]);
      const asConfig = await rejectionOf(loadConfig(fifo));
      expect(asConfig.issues).toEqual([{ path: 'config', message: `file ${fifo} cannot be read (not a regular file)`, hint: expect.any(String) }]);
    } finally {
      await rm(fifo, { force: true });
    }
  }, 5_000);

  it('refuses a file or object that is not a JSON object', async () => {
    const file = join(dir, 'array.json');
    await writeFile(file, '[1, 2]');
    expect((await rejectionOf(loadConfig(file))).issues).toEqual([{ path: 'config', message: 'must be a JSON object', hint: expect.any(String) }]);
    expect((await rejectionOf(loadConfig([] as unknown as Record<string, unknown>))).code).toBe('CONFIG_INVALID');
  });
});

describe('loadConfig: broken JSON says where, what was there and what to do (issue 19)', () => {
  const SECRET = 'FAKE-UNQUOTED-SECRET-4c2d';
  it.each([
    ['a pasted ```json fence', '```json\n{ "strategy": "oauth2" }\n```\n', 1, 1, 'a backquote (`)', /Remove the ``` lines/],
    ['curly quotes from a word processor', '{\n  “strategy”: "oauth2"\n}', 2, 3, 'a curly quote (“)', /straight double quotes/],
    ['single quotes', "{ 'strategy': 'oauth2' }", 1, 3, "a single quote (')", /double quotes/],
    ['a trailing comma', '{\n  "strategy": "oauth2",\n}', 2, 23, 'a comma (,) before the closing bracket', /Remove the comma/],
    ['a missing comma', '{\n  "strategy": "oauth2"\n  "user": "me@gmail.com"\n}', 3, 3, 'a double quote (")', /Add a comma/],
    ['a comment', '{\n  // the relay\n  "strategy": "relay"\n}', 2, 3, 'a comment (//)', /no comments/],
    ['an unquoted name', '{ strategy: "relay" }', 1, 3, 'a letter', /property names in double quotes/],
    ['an unquoted secret value', `{ "strategy": "relay", "pass": ${SECRET} }`, 1, 32, 'a letter', /Fix the JSON at that line/],
    ['a full-width space', '{\u3000"strategy": "relay" }', 1, 2, 'a full-width space (U+3000)', /full-width space/],
    [
      'a Windows path with single backslashes',
      '{ "keyFile": "C:\\keys\\sa.json" }',
      1,
      17,
      'a backslash that starts no valid escape',
      /write \\\\ for one backslash/,
    ],
    ['a file cut short', '{ "strategy": "relay", "host": "mail.example.net"', 1, 50, 'the end of the file', /ends too early/],
  ] as const)('%s', async (_title, text, line, column, found, advice) => {
    const file = join(dir, 'broken-case.json');
    await writeFile(file, text);
    const err = await rejectionOf(loadConfig(file));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.issues).toHaveLength(1);
    expect(err.issues![0]!.message).toContain(`is not valid JSON (line ${line}, column ${column}): found ${found} where `);
    expect(err.issues![0]!.hint).toMatch(advice);
    expect(err.hint).toMatch(advice);
    expect(leakText(err)).not.toContain(SECRET);
    expect(leakText(err)).not.toContain('C:\\keys');
  });

  it('reads a file saved with a byte order mark (Windows Notepad)', async () => {
    const file = join(dir, 'bom.json');
    await writeFile(file, '\uFEFF{ "strategy": "relay", "host": "mail.example.net" }');
    expect(await loadConfig(file)).toEqual({ strategy: 'relay', host: 'mail.example.net' });
  });
});
