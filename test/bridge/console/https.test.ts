import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDirs } from '../../helpers/temp-dirs.js';
import { call, login, setCookies, startConsoleBridge, type ConsoleBridge } from './harness.js';

const tempDir = tempDirs('console-https-');
let b: ConsoleBridge;
let base: string;

beforeAll(async () => {
  // Any address but loopback is served over HTTPS with the bridge's certificate.
  b = await startConsoleBridge({ baseDir: tempDir(), admin: { listen: { host: '0.0.0.0', port: 0 } } });
  base = `https://127.0.0.1:${b.bridge.admin!.port}`;
});
afterAll(() => b.stop());

describe('console on a LAN address (issue 22)', () => {
  it('speaks HTTPS only, with the bridge certificate', async () => {
    expect(b.bridge.admin!.url).toMatch(/^https:\/\/0\.0\.0\.0:\d+\/$/);
    const page = await call(`${base}/login`, { ca: b.cert });
    expect(page.status).toBe(200);
    expect(page.headers['strict-transport-security']).toBe('max-age=31536000');
    await expect(call(`http://127.0.0.1:${b.bridge.admin!.port}/login`)).rejects.toThrow();
  });

  it('cookies are Secure and __Host- prefixed', async () => {
    const page = await call(`${base}/login`, { ca: b.cert });
    expect(setCookies(page).get('__Host-gt_login')!.raw).toMatch(/; HttpOnly; SameSite=Strict; Secure$/);
    const { cookie } = await login(base, undefined, undefined, b.cert);
    expect(cookie).toMatch(/^__Host-gt_session=/);
    // A session cookie without the prefix (set by a plain-HTTP page of the same host) is not one.
    expect((await call(`${base}/`, { headers: { cookie: cookie.replace('__Host-', '') }, ca: b.cert })).status).toBe(303);
    expect((await call(`${base}/`, { headers: { cookie }, ca: b.cert })).status).toBe(200);
  });
});
