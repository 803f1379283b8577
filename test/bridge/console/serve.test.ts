import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import { writeFile } from 'node:fs/promises';
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
    const listeningLine = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.event === 'listening');
    expect(listeningLine?.admin).toBe(url);
    signals.emit('SIGTERM');
    expect(await run).toBe(0);
    // The console closed with the bridge.
    await expect(call(`${url}api/status`, { headers: { connection: 'close' } })).rejects.toThrow(/ECONNREFUSED|socket hang up|ECONNRESET/);
    expect(stdout + stderr).not.toContain('FAKE-SERVE-ADMIN-PW');
    expect(stdout + stderr).not.toContain(hash);
  });
});
