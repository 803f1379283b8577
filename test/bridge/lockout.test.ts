import { describe, expect, it } from 'vitest';
import { AuthLockout } from '../../src/bridge/lockout.js';

describe('failed-login lockout', () => {
  const t0 = Date.parse('2026-03-02T09:00:00Z');

  it('locks an address out at the limit, for the window, and per address', () => {
    const lockout = new AuthLockout(3, 60_000);
    expect(lockout.recordFailure('10.0.0.5', t0)).toEqual({ failures: 1 });
    expect(lockout.recordFailure('10.0.0.5', t0 + 1000)).toEqual({ failures: 2 });
    expect(lockout.lockedUntil('10.0.0.5', t0 + 1000)).toBeUndefined();
    expect(lockout.recordFailure('10.0.0.5', t0 + 2000)).toEqual({ failures: 3, lockedUntil: t0 + 62_000 });
    expect(lockout.lockedUntil('10.0.0.5', t0 + 61_999)).toBe(t0 + 62_000);
    expect(lockout.lockedUntil('10.0.0.6', t0 + 3000)).toBeUndefined();
    expect(lockout.lockedUntil('10.0.0.5', t0 + 62_000)).toBeUndefined();
    // After the lockout the count starts again.
    expect(lockout.recordFailure('10.0.0.5', t0 + 63_000)).toEqual({ failures: 1 });
  });

  it('forgets failures older than the window, and clears them on a successful login', () => {
    const lockout = new AuthLockout(2, 60_000);
    lockout.recordFailure('10.0.0.5', t0);
    expect(lockout.recordFailure('10.0.0.5', t0 + 61_000)).toEqual({ failures: 1 });
    lockout.recordSuccess('10.0.0.5');
    expect(lockout.recordFailure('10.0.0.5', t0 + 62_000)).toEqual({ failures: 1 });
  });

  it('keeps its table bounded under a scan from many addresses, without dropping a live lockout first', () => {
    const lockout = new AuthLockout(1, 60_000, 100);
    lockout.recordFailure('10.0.0.1', t0);
    for (let i = 0; i < 150; i++) lockout.recordFailure(`10.1.${i >> 8}.${i & 255}`, t0 + 120_000);
    expect(lockout.lockedUntil('10.1.0.149', t0 + 120_001)).toBe(t0 + 180_000);
    expect(lockout.lockedUntil('10.0.0.1', t0 + 120_001)).toBeUndefined();
  });
});
