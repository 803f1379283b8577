import { beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDirs } from '../../helpers/temp-dirs.js';
import { resolveBridgeConfig } from '../../../src/bridge/config.js';
import { isGmailTransportError, type GmailTransportError } from '../../../src/index.js';
import { fastHash } from '../../helpers/bridge.js';

let hash: string;
beforeAll(async () => {
  hash = await fastHash('FAKE-ADMIN-PW-cfg1');
});

const base = () => ({ allowNetworks: ['192.168.10.0/24'], upstream: { strategy: 'relay', host: 'smtp.example.com', port: 465, secure: true } });

function refusal(options: unknown): GmailTransportError {
  try {
    resolveBridgeConfig(options);
  } catch (err) {
    if (isGmailTransportError(err)) return err;
    throw err;
  }
  throw new Error('accepted');
}

describe('admin config (issue 22)', () => {
  it('defaults to 127.0.0.1:8025 over plain HTTP', () => {
    const config = resolveBridgeConfig({ ...base(), admin: { users: [{ user: 'admin', passwordHash: hash }] } });
    expect(config.admin).toMatchObject({ listen: { host: '127.0.0.1', port: 8025 }, secure: false });
    expect([...config.admin!.users.keys()]).toEqual(['admin']);
  });

  it('is off without the option', () => {
    expect(resolveBridgeConfig(base()).admin).toBeUndefined();
  });

  it('a LAN address needs the bridge certificate: refused without tls, HTTPS with it', () => {
    const admin = { listen: { host: '192.168.10.2', port: 8443 }, users: [{ user: 'admin', passwordHash: hash }] };
    const err = refusal({ ...base(), admin });
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.issues?.map((i) => i.path)).toEqual(['admin.listen.host']);
    expect(err.message).toMatch(/HTTPS/);
    for (const host of ['0.0.0.0', '::', 'bridge.office.example'])
      expect(refusal({ ...base(), admin: { ...admin, listen: { host } } }).issues?.map((i) => i.path)).toEqual(['admin.listen.host']);
    const ok = resolveBridgeConfig({ ...base(), tls: { selfSigned: true }, admin });
    expect(ok.admin).toMatchObject({ listen: { host: '192.168.10.2', port: 8443 }, secure: true });
  });

  it('needs at least one admin user with a real hash, and names each bad field', () => {
    expect(refusal({ ...base(), admin: {} }).issues?.map((i) => i.path)).toEqual(['admin.users']);
    expect(refusal({ ...base(), admin: { users: [] } }).issues?.map((i) => i.path)).toEqual(['admin.users']);
    const err = refusal({
      ...base(),
      admin: {
        users: [
          { user: 'admin', passwordHash: 'FAKE-CLEAR-PW-0000' },
          { user: 'a b', passwordHash: hash },
          { user: 'admin', passwordHash: hash },
        ],
        metricsNetworks: ['0.0.0.0/0', 'nonsense'],
        extra: 1,
      },
    });
    expect(err.issues?.map((i) => i.path).sort()).toEqual([
      'admin.extra',
      'admin.metricsNetworks[0]',
      'admin.metricsNetworks[1]',
      'admin.users[0].passwordHash',
      'admin.users[1].user',
      'admin.users[2].user',
    ]);
    // Fields are named, values never quoted.
    expect(JSON.stringify(err)).not.toContain('FAKE-CLEAR-PW');
    expect(String(err)).not.toContain('FAKE-CLEAR-PW');
  });

  it('checks the port', () => {
    expect(refusal({ ...base(), admin: { listen: { port: 70000 }, users: [{ user: 'admin', passwordHash: hash }] } }).issues?.map((i) => i.path)).toEqual([
      'admin.listen.port',
    ]);
  });
});

describe('admin.refreshTokenFile (issue 22)', () => {
  const tempDir = tempDirs('console-config-');
  const oauth2 = (extra: Record<string, unknown> = {}) => ({
    allowNetworks: ['192.168.10.0/24'],
    upstream: {
      strategy: 'oauth2',
      user: 'scans@example.com',
      clientId: 'x.apps.googleusercontent.com',
      clientSecret: 'FAKE-CLIENT-SECRET-cf1',
      refreshToken: 'FAKE-CONFIG-REFRESH-cf1',
      ...extra,
    },
  });

  it('is for an oauth2 upstream only', () => {
    expect(
      refusal({ ...base(), admin: { users: [{ user: 'admin', passwordHash: hash }], refreshTokenFile: 'refresh-token' } }).issues?.map((i) => i.path),
    ).toEqual(['admin.refreshTokenFile']);
  });

  it('a kept token replaces upstream.refreshToken; none kept yet leaves it', () => {
    const dir = tempDir();
    const admin = { users: [{ user: 'admin', passwordHash: hash }], refreshTokenFile: 'refresh-token' };
    expect((resolveBridgeConfig({ ...oauth2(), baseDir: dir, admin }).upstream as { refreshToken: string }).refreshToken).toBe('FAKE-CONFIG-REFRESH-cf1');
    writeFileSync(join(dir, 'refresh-token'), 'FAKE-KEPT-REFRESH-cf1\n', { mode: 0o600 });
    expect((resolveBridgeConfig({ ...oauth2(), baseDir: dir, admin }).upstream as { refreshToken: string }).refreshToken).toBe('FAKE-KEPT-REFRESH-cf1');
  });

  it('a plain file with tokenEncryptionKey set, or a sealed one without it, is refused, quoting nothing of it', () => {
    const dir = tempDir();
    const admin = { users: [{ user: 'admin', passwordHash: hash }], refreshTokenFile: 'refresh-token' };
    writeFileSync(join(dir, 'refresh-token'), 'FAKE-KEPT-REFRESH-cf2\n');
    const err = refusal({ ...oauth2({ tokenEncryptionKey: 'b'.repeat(64) }), baseDir: dir, admin });
    expect(err.issues?.map((i) => i.path)).toEqual(['admin.refreshTokenFile']);
    expect(err.message).toMatch(/not sealed/);
    writeFileSync(join(dir, 'refresh-token'), 'gt1.AAAA.BBBB.CCCC\n');
    expect(refusal({ ...oauth2(), baseDir: dir, admin }).message).toMatch(/sealed, and the upstream has no tokenEncryptionKey/);
    expect(JSON.stringify(err)).not.toContain('FAKE-KEPT-REFRESH');
  });
});
