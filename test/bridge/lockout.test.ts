import { describe, expect, it } from 'vitest';
import { AuthLockout, UNKNOWN_ACCOUNT } from '../../src/bridge/lockout.js';

describe('failed-login lockout', () => {
  const t0 = Date.parse('2026-03-02T09:00:00Z');
  const fail = (lockout: AuthLockout, address: string, now: number, account = 'printer') => {
    expect(lockout.reserve(address, now)).toBe(true);
    return lockout.recordFailure(address, account, now);
  };

  it('locks an address out at the limit, for the window, and per address', () => {
    const lockout = new AuthLockout(3, 60_000);
    expect(fail(lockout, '10.0.0.5', t0)).toEqual({ failures: 1 });
    expect(fail(lockout, '10.0.0.5', t0 + 1000)).toEqual({ failures: 2 });
    expect(lockout.lockedUntil('10.0.0.5', t0 + 1000)).toBeUndefined();
    expect(fail(lockout, '10.0.0.5', t0 + 2000)).toEqual({ failures: 3, lockedUntil: t0 + 62_000 });
    expect(lockout.lockedUntil('10.0.0.5', t0 + 61_999)).toBe(t0 + 62_000);
    expect(lockout.reserve('10.0.0.5', t0 + 61_999)).toBe(false);
    expect(lockout.lockedUntil('10.0.0.6', t0 + 3000)).toBeUndefined();
    expect(lockout.lockedUntil('10.0.0.5', t0 + 62_000)).toBeUndefined();
    // After the lockout the count starts again.
    expect(fail(lockout, '10.0.0.5', t0 + 63_000)).toEqual({ failures: 1 });
  });

  it('forgets failures older than the window, and clears them on a successful login', () => {
    const lockout = new AuthLockout(2, 60_000);
    fail(lockout, '10.0.0.5', t0);
    expect(fail(lockout, '10.0.0.5', t0 + 61_000)).toEqual({ failures: 1 });
    expect(lockout.reserve('10.0.0.5', t0 + 61_500)).toBe(true);
    lockout.recordSuccess('10.0.0.5', 'printer', t0 + 61_500);
    expect(fail(lockout, '10.0.0.5', t0 + 62_000)).toEqual({ failures: 1 });
  });

  it('counts failures per address whichever account they tried; a success clears only its own account (issue 18)', () => {
    const lockout = new AuthLockout(5, 60_000);
    for (let i = 0; i < 4; i++) fail(lockout, '10.0.0.5', t0 + i, 'victim');
    expect(lockout.reserve('10.0.0.5', t0 + 10)).toBe(true);
    lockout.recordSuccess('10.0.0.5', 'printer', t0 + 10);
    expect(fail(lockout, '10.0.0.5', t0 + 20, UNKNOWN_ACCOUNT)).toEqual({ failures: 5, lockedUntil: t0 + 60_020 });
    const other = new AuthLockout(5, 60_000);
    fail(other, '10.0.0.7', t0, 'printer');
    fail(other, '10.0.0.7', t0, 'victim');
    expect(other.reserve('10.0.0.7', t0)).toBe(true);
    other.recordSuccess('10.0.0.7', 'printer', t0);
    expect(fail(other, '10.0.0.7', t0, 'victim')).toEqual({ failures: 2 });
  });

  it('reserves a failure per check in progress: no more checks than the limit, released reservations come back (issue 18)', () => {
    const lockout = new AuthLockout(3, 60_000);
    expect([1, 2, 3, 4].map(() => lockout.reserve('10.0.0.5', t0))).toEqual([true, true, true, false]);
    lockout.release('10.0.0.5', t0);
    expect(lockout.reserve('10.0.0.5', t0)).toBe(true);
    lockout.recordSuccess('10.0.0.5', 'printer', t0);
    lockout.recordSuccess('10.0.0.5', 'printer', t0);
    lockout.recordSuccess('10.0.0.5', 'printer', t0);
    expect(lockout.lockedUntil('10.0.0.5', t0)).toBeUndefined();
    expect([1, 2, 3].map(() => lockout.reserve('10.0.0.5', t0))).toEqual([true, true, true]);
  });

  it('keeps its table bounded under a scan from many addresses, without dropping a live lockout first', () => {
    const lockout = new AuthLockout(1, 60_000, 100);
    fail(lockout, '10.0.0.1', t0);
    for (let i = 0; i < 150; i++) fail(lockout, `10.1.${i >> 8}.${i & 255}`, t0 + 120_000);
    expect(lockout.lockedUntil('10.1.0.149', t0 + 120_001)).toBe(t0 + 180_000);
    expect(lockout.lockedUntil('10.0.0.1', t0 + 120_001)).toBeUndefined();
  });
});
