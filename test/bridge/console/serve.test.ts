import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { main } from '../../../src/cli/main.js';
import { fastHash } from '../../helpers/bridge.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../../helpers/scripted-upstream.js';
import { tempDirs } from '../../helpers/temp-dirs.js';
import { basic, call } from './harness.js';

const tempDir = tempDirs('console-serve-');
let upstream: ScriptedUpstream;
beforeAll(async () => {
  upstream = await startScriptedUpstream();
});
afterAll(() => upstream.close());

describe('admin console through `gmail-transport serve` (issue 22)', () => {
  it('starts with the bridge, prints its address, answers the API with Basic auth, stops on SIGTERM', async () => {
    const dir = tempDir();
    await writeFile(join(dir, 'upstream-ca.pem'), upstream.cert);
    const hash = await fastHash('FAKE-SERVE-ADMIN-PW-31');
    await writeFile(
      join(dir, 'bridge.json'),
      JSON.stringify({
        listen: { host: '127.0.0.1', port: 0 },
        allowNetworks: ['127.0.0.1'],
        upstream: { strategy: 'relay', host: '127.0.0.1', port: upstream.port, secure: true, smtp: { tls: { ca: [{ file: 'upstream-ca.pem' }] } } },
        sendLog: { dir: 'send-log' },
        admin: { listen: { host: '127.0.0.1', port: 0 }, users: [{ user: 'admin', passwordHash: { env: 'ADMIN_HASH' } }] },
      }),
    );
    let stdout = '';
    let stderr = '';
    const signals = new EventEmitter();
    let listening!: () => void;
    const ready = new Promise<void>((resolve) => (listening = resolve));
    const run = main(['serve', '--config', 'bridge.json'], {
      stdout: { write: (t: string) => (stdout += t) },
      stderr: { write: (t: string) => (stderr += t) },
      cwd: dir,
      env: { ADMIN_HASH: hash },
      signals,
      onListening: () => listening(),
    } as never);
    await ready;
    const url = /admin console at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stderr)?.[1];
    expect(url).toBeDefined();
    expect((await call(`${url}api/status`)).status).toBe(401);
    const answer = await call(`${url}api/status`, { headers: { authorization: basic('admin', 'FAKE-SERVE-ADMIN-PW-31') } });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body).upstream).toEqual({ strategy: 'relay' });
    const listeningLine = stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.event === 'listening');
    expect(listeningLine?.admin).toBe(url);
    signals.emit('SIGTERM');
    expect(await run).toBe(0);
    // The console closed with the bridge.
    await expect(call(`${url}api/status`, { headers: { connection: 'close' } })).rejects.toThrow(/ECONNREFUSED|socket hang up|ECONNRESET/);
    expect(stdout + stderr).not.toContain('FAKE-SERVE-ADMIN-PW');
    expect(stdout + stderr).not.toContain(hash);
  });

  it('an oauth2 upstream whose refresh token is only in admin.refreshTokenFile starts, and its start-up check uses that token', async () => {
    const dir = tempDir();
    await writeFile(join(dir, 'upstream-ca.pem'), upstream.cert);
    await writeFile(join(dir, 'refresh-token'), 'FAKE-KEPT-REFRESH-sv1\n', { mode: 0o600 });
    const token = await startTokenEndpoint();
    await writeFile(
      join(dir, 'bridge.json'),
      JSON.stringify({
        listen: { host: '127.0.0.1', port: 0 },
        allowNetworks: ['127.0.0.1'],
        upstream: {
          strategy: 'oauth2',
          user: 'scans@example.com',
          clientId: 'sv1.apps.googleusercontent.com',
          clientSecret: 'FAKE-CLIENT-SECRET-sv1',
          endpoints: { token: token.url },
          smtp: { host: '127.0.0.1', port: upstream.port, secure: true, tls: { ca: [{ file: 'upstream-ca.pem' }] } },
        },
        admin: {
          listen: { host: '127.0.0.1', port: 0 },
          users: [{ user: 'admin', passwordHash: await fastHash('FAKE-SERVE-ADMIN-PW-32') }],
          refreshTokenFile: 'refresh-token',
        },
      }),
    );
    let stdout = '';
    const signals = new EventEmitter();
    const run = main(['serve', '--config', 'bridge.json'], {
      stdout: { write: (t: string) => (stdout += t) },
      stderr: { write: () => true },
      cwd: dir,
      signals,
    } as never);
    while (!stdout.includes('upstream-verified') && !stdout.includes('upstream-verify-failed')) await new Promise((r) => setTimeout(r, 20));
    expect(stdout).toContain('upstream-verified');
    expect(token.refreshTokens).toEqual(['FAKE-KEPT-REFRESH-sv1']);
    signals.emit('SIGTERM');
    expect(await run).toBe(0);
    await token.close();
  });
});

/** A token endpoint on 127.0.0.1 that grants any refresh token and remembers which. */
async function startTokenEndpoint(): Promise<{ url: string; refreshTokens: string[]; close(): Promise<void> }> {
  const refreshTokens: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      refreshTokens.push(new URLSearchParams(body).get('refresh_token') ?? '');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: 'ya29.FAKE-ACCESS-sv1', expires_in: 3599, token_type: 'Bearer' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`,
    refreshTokens,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
