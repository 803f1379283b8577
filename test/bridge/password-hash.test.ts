import { describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/bridge/index.js';
import { hashPasswordWith, meetsRecommendation, parsePasswordHash, verifyPassword } from '../../src/bridge/password-hash.js';

describe('device password hashes (scrypt, PHC string)', () => {
  it('hashPassword() is self-describing, salted, and meets OWASP scrypt guidance', async () => {
    const a = await hashPassword('FAKE-DEVICE-PW-3e7a');
    const b = await hashPassword('FAKE-DEVICE-PW-3e7a');
    expect(a).toMatch(/^\$scrypt\$ln=15,r=8,p=3\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('FAKE-DEVICE-PW');
    const parsed = parsePasswordHash(a)!;
    expect(meetsRecommendation(parsed)).toBe(true);
    expect(await verifyPassword('FAKE-DEVICE-PW-3e7a', parsed)).toBe(true);
    expect(await verifyPassword('FAKE-DEVICE-PW-3e7b', parsed)).toBe(false);
  });

  it('verifies with the parameters stored in the hash, and flags weak ones', async () => {
    const weak = await hashPasswordWith('pw', { logN: 10, r: 8, p: 1 });
    const parsed = parsePasswordHash(weak)!;
    expect(parsed).toMatchObject({ logN: 10, r: 8, p: 1 });
    expect(meetsRecommendation(parsed)).toBe(false);
    expect(await verifyPassword('pw', parsed)).toBe(true);
    expect(await verifyPassword('PW', parsed)).toBe(false);
  });

  it('rejects what is not a hash, and parameters that would cost gigabytes', () => {
    for (const bad of [
      'hunter2',
      '$2b$10$abcdefghijklmnopqrstuv',
      '$scrypt$ln=15,r=8,p=3$c2FsdA$aGFzaA',
      '$scrypt$ln=30,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$' + 'A'.repeat(43),
    ]) {
      expect(parsePasswordHash(bad)).toBeUndefined();
    }
  });

  it('refuses to hash an empty password', async () => {
    await expect(hashPassword('')).rejects.toThrow(TypeError);
  });
});
