import { describe, expect, it } from 'vitest';
import { AuthLockout } from '../../../src/bridge/lockout.js';

describe('lockouts listed and lifted for the console (issue 22)', () => {
  const t0 = Date.parse('2026-03-02T09:00:00Z');
  const fail = (lockout: AuthLockout, address: string, now: number) => {
    expect(lockout.reserve(address, now)).toBe(true);
    return lockout.recordFailure(address, 'printer', now);
  };

  it('lists only addresses locked out now, with the end of each lockout', () => {
    const lockout = new AuthLockout(2, 60_000);
    fail(lockout, '192.168.10.31', t0);
    fail(lockout, '192.168.10.31', t0 + 1000);
    fail(lockout, '192.168.10.40', t0);
    expect(lockout.lockedOut(t0 + 2000)).toEqual([{ address: '192.168.10.31', until: t0 + 61_000, failures: 2 }]);
    expect(lockout.lockedOut(t0 + 61_000)).toEqual([]);
  });

  it('unlock lifts the lockout and forgets the failures; an address not locked out is left alone', () => {
    const lockout = new AuthLockout(2, 60_000);
    fail(lockout, '192.168.10.31', t0);
    fail(lockout, '192.168.10.31', t0);
    fail(lockout, '192.168.10.40', t0);
    expect(lockout.unlock('192.168.10.40', t0 + 10)).toBe(false);
    expect(lockout.unlock('192.168.10.31', t0 + 10)).toBe(true);
    expect(lockout.lockedUntil('192.168.10.31', t0 + 10)).toBeUndefined();
    expect(lockout.lockedOut(t0 + 10)).toEqual([]);
    // A fresh count: one more failure does not lock it again at once.
    expect(fail(lockout, '192.168.10.31', t0 + 20)).toEqual({ failures: 1 });
    // The other address kept its failure.
    expect(fail(lockout, '192.168.10.40', t0 + 20)).toEqual({ failures: 2, lockedUntil: t0 + 60_020 });
  });
});
