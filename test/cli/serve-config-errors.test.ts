import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { hintFor } from '../../src/index.js';
import { fastHash } from '../helpers/bridge.js';

// Issue 19, item 9: `gmail-transport serve` reports config mistakes with bridge hints, JSON
// errors with line and column and what was found, and every problem in one pass.
const CLIENT_SECRET = 'FAKE-SERVE-CLIENT-SECRET-8d1f';

async function serve(dir: string, file: string, env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const signals = new EventEmitter();
  const code = await main(['serve', '--config', file], {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    cwd: dir,
    env,
    signals,
    // A config that starts would wait for a signal: stop it at once.
    onListening: () => setImmediate(() => signals.emit('SIGTERM')),
  } as never);
  return { code, stdout, stderr };
}

describe('issue 19: gmail-transport serve and a broken config', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'serve-config-'));
    await writeFile(join(dir, 'client-secret'), `${CLIENT_SECRET}\n`);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('a config pasted with its ```json fence: line 1, column 1, a backquote, and what to do', async () => {
    await writeFile(join(dir, 'fenced.json'), '```json\n{\n  "allowNetworks": ["127.0.0.1"]\n}\n```\n');
    const { code, stderr, stdout } = await serve(dir, 'fenced.json');
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/serve: FAILED CONFIG_INVALID/);
    expect(stderr).toMatch(/fenced\.json is not valid JSON \(line 1, column 1\): found a backquote \(`\) where a value was expected/);
    expect(stderr).toMatch(/hint: Remove the ``` lines around the JSON/);
  });

  it('curly quotes: the line and column of the first one', async () => {
    await writeFile(join(dir, 'curly.json'), '{\n  "listen": { "port": 2525 },\n  “allowNetworks”: ["192.168.10.0/24"]\n}\n');
    const { code, stderr } = await serve(dir, 'curly.json');
    expect(code).toBe(1);
    expect(stderr).toMatch(/\(line 3, column 3\): found a curly quote \(“\) where a property name in double quotes was expected/);
    expect(stderr).toMatch(/straight double quotes/);
  });

  it('reports every problem in one pass: missing secrets next to the bridge’s own mistakes, each with a hint, and a bridge hint', async () => {
    await writeFile(
      join(dir, 'many.json'),
      JSON.stringify({
        listen: { host: '0.0.0.0', port: '2525' },
        accounts: [{ user: 'printer', passwordHash: { env: 'PRINTER_HASH' } }],
        tls: { selfSigned: true },
        allowNetworks: ['192.168.10.0/33'],
        upstream: {
          strategy: 'oauth2',
          user: 'scans',
          clientId: 'x.apps.googleusercontent.com',
          clientSecret: { file: 'missing-secret' },
          refreshToken: { env: 'REFRESH' },
        },
        allowInsecureAuht: true,
      }),
    );
    const { code, stderr } = await serve(dir, 'many.json');
    expect(code).toBe(1);
    const listed = stderr
      .split('\n')
      .filter((line) => line.startsWith('  - '))
      .map((line) => line.slice(4));
    expect(listed).toEqual(
      expect.arrayContaining([
        'accounts[0].passwordHash refers to environment variable PRINTER_HASH, which is not set',
        `upstream.clientSecret refers to file ${join(dir, 'missing-secret')}, which cannot be read (ENOENT)`,
        'upstream.refreshToken refers to environment variable REFRESH, which is not set',
        'listen.port must be an integer, got string',
        expect.stringMatching(/^allowNetworks\[0\] /),
        'upstream.user must be an e-mail address such as me@example.com',
        'allowInsecureAuht is not a known option: did you mean allowInsecureAuth?',
      ]),
    );
    // A field whose reference failed is reported once, as the reference.
    expect(listed.filter((line) => line.startsWith('accounts[0].passwordHash'))).toHaveLength(1);
    expect(listed.filter((line) => line.startsWith('upstream.clientSecret'))).toHaveLength(1);
    expect(listed).toHaveLength(7);
    // Each issue's own hint is printed under it; the error's hint is the bridge's.
    expect(stderr).toMatch(/- listen\.port must be an integer, got string\n {6}Write a whole number without quotes/);
    expect(stderr).toMatch(/- allowNetworks\[0\] [^\n]*\n {6}Write an address or a network in CIDR form/);
    expect(stderr).toMatch(/- upstream\.refreshToken [^\n]*\n {6}Set the environment variables/);
    expect(stderr).toContain(`hint: ${hintFor('CONFIG_INVALID:bridge')}`);
    expect(stderr).not.toContain('create the transport again');
  });

  it('a config whose only problem is an upstream mistake: bridge hint, not the transport’s', async () => {
    await writeFile(
      join(dir, 'upstream.json'),
      JSON.stringify({ listen: { port: 0 }, allowNetworks: ['127.0.0.1'], upstream: { strategy: 'app_password', user: 'me@gmail.com' } }),
    );
    const { code, stderr } = await serve(dir, 'upstream.json');
    expect(code).toBe(1);
    expect(stderr).toMatch(/- upstream\.strategy must be one of [^\n]*: did you mean 'app-password'\?/);
    expect(stderr).toMatch(/gmail-transport serve/);
  });

  it('the same config with the secrets in place starts', async () => {
    const hash = await fastHash('FAKE-SERVE-PRINTER-PW-61ab');
    await writeFile(
      join(dir, 'good.json'),
      JSON.stringify({
        listen: { host: '127.0.0.1', port: 0 },
        accounts: [{ user: 'printer', passwordHash: { env: 'PRINTER_HASH' } }],
        tls: { selfSigned: true },
        allowNetworks: ['127.0.0.1'],
        upstream: { strategy: 'relay', host: '127.0.0.1', port: 1, secure: true, auth: { user: 'scans', pass: { file: 'client-secret' } } },
      }),
    );
    const { code, stderr, stdout } = await serve(dir, 'good.json', { PRINTER_HASH: hash });
    expect(code).toBe(0);
    expect(stderr).toMatch(/listening on 127\.0\.0\.1:\d+/);
    expect(stdout + stderr).not.toContain(CLIENT_SECRET);
  });
});
