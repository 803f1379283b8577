import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuthLockout, UNKNOWN_ACCOUNT } from '../../src/bridge/lockout.js';
import { hashPasswordWith } from '../../src/bridge/password-hash.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../helpers/scripted-upstream.js';
import { fastHash, relayTo, startBridge, type RunningBridge } from '../helpers/bridge.js';
import { RawSmtpClient } from '../helpers/printer.js';

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

// Attacks on a running bridge, from real sockets. Logins in clear (allowInsecureAuth) to keep
// them quick; the lockout does not depend on TLS.
describe('failed-login lockout on a running bridge (issue 18)', () => {
  const RIGHT = 'FAKE-LOCKOUT-PW-3e7a';
  const WRONG = 'FAKE-GUESS-PW-9c1d';
  let upstream: ScriptedUpstream;
  let hash: string;
  const running: RunningBridge[] = [];
  beforeAll(async () => {
    upstream = await startScriptedUpstream();
    hash = await fastHash(RIGHT);
  });
  afterEach(async () => {
    vi.useRealTimers();
    while (running.length) {
      const b = running.pop()!;
      await b.close();
      for (const log of b.logs) for (const secret of [RIGHT, WRONG]) expect(log.line).not.toContain(secret);
    }
  });
  afterAll(() => upstream.close());

  async function bridge(opts: { passwordHash?: string; limits?: Record<string, number> } = {}): Promise<RunningBridge> {
    const passwordHash = opts.passwordHash ?? hash;
    const b = await startBridge({
      tls: undefined,
      allowInsecureAuth: true,
      accounts: [
        { user: 'printer', passwordHash },
        { user: 'victim', passwordHash },
      ],
      upstream: relayTo(upstream),
      ...(opts.limits ? { limits: opts.limits } : {}),
    });
    running.push(b);
    return b;
  }

  /** A connection ready to log in: greeted and EHLO sent. Returns the greeting if it was a refusal. */
  async function ready(port: number): Promise<RawSmtpClient | string> {
    const client = await RawSmtpClient.connect(port);
    const greeting = await client.read();
    if (!greeting.startsWith('220')) {
      client.close();
      return greeting;
    }
    await client.command('EHLO device.local');
    return client;
  }
  const plain = (user: string, pass: string) => `AUTH PLAIN ${Buffer.from(`\0${user}\0${pass}`).toString('base64')}`;
  async function login(port: number, user: string, pass: string): Promise<string> {
    const client = await ready(port);
    if (typeof client === 'string') return client;
    try {
      return await client.command(plain(user, pass));
    } finally {
      client.close();
    }
  }

  it('a good login as one account does not reset the failures against another: four guesses and a login, repeated, are locked out', async () => {
    const b = await bridge();
    const replies: string[] = [];
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 4; i++) replies.push(await login(b.port, 'victim', WRONG));
      replies.push(await login(b.port, 'printer', RIGHT));
    }
    expect(replies.slice(0, 5)).toEqual([...Array(4).fill('535 5.7.8 Authentication credentials invalid'), expect.stringMatching(/^235 /)]);
    // The fifth failure of the address, whichever account it tried, locks it out.
    expect(replies[5]).toMatch(/^535 /);
    expect(replies.slice(6)).toEqual(Array(replies.length - 6).fill('421 4.7.0 Too many failed logins from your address, locked out; try again later'));
    expect(replies.filter((r) => r.startsWith('535'))).toHaveLength(5);
    expect(b.logs.filter((l) => l.record.event === 'lockout').map((l) => l.record)).toEqual([expect.objectContaining({ client: '127.0.0.1', failures: 5 })]);
  });

  it("a success clears only its own account's failures at the address", async () => {
    const b = await bridge();
    expect(await login(b.port, 'printer', WRONG)).toMatch(/^535 /);
    expect(await login(b.port, 'printer', WRONG)).toMatch(/^535 /);
    // The printer's own two failures are forgotten: it typed the right password at last.
    expect(await login(b.port, 'printer', RIGHT)).toMatch(/^235 /);
    for (let i = 0; i < 4; i++) expect(await login(b.port, 'victim', WRONG)).toMatch(/^535 /);
    expect(await login(b.port, 'printer', RIGHT)).toMatch(/^235 /);
    // The victim's four stay: the next failure is the fifth.
    expect(await login(b.port, 'nobody', WRONG)).toMatch(/^535 /);
    expect(await login(b.port, 'printer', RIGHT)).toMatch(/^421 4\.7\.0 Too many failed logins/);
  });

  it('20 guesses at the same moment run no more password checks than the limit; the rest are refused as locked out, until the lockout ends', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-03-02T09:00:00Z'));
    // A hash that takes a while to check: every AUTH below arrives before the first check ends.
    const slow = await hashPasswordWith(RIGHT, { logN: 14, r: 8, p: 1 });
    const b = await bridge({ passwordHash: slow, limits: { maxConnections: 40, maxConnectionsPerAddress: 30, lockoutMinutes: 10 } });
    const refused: string[] = [];
    b.bridge.on('refused', (r) => refused.push(r.reason));
    const clients = await Promise.all(Array.from({ length: 20 }, () => ready(b.port)));
    const replies = await Promise.all(
      clients.map((c) => {
        if (typeof c === 'string') return c;
        return c.command(plain('victim', WRONG)).finally(() => c.close());
      }),
    );
    expect(replies.filter((r) => r.startsWith('535 '))).toHaveLength(5);
    expect(replies.filter((r) => r === '421 4.7.0 Too many failed logins from your address, locked out; try again later')).toHaveLength(15);
    expect(refused.filter((r) => r === 'auth-failed')).toHaveLength(5);
    expect(refused.filter((r) => r === 'locked-out')).toHaveLength(15);
    expect(await login(b.port, 'printer', RIGHT)).toMatch(/^421 4\.7\.0 /);
    // The lockout ends: no state outlives lockoutMinutes.
    vi.setSystemTime(new Date('2026-03-02T09:10:01Z'));
    expect(await login(b.port, 'printer', RIGHT)).toMatch(/^235 /);
  });

  it('logins checked at the same moment that succeed give their reservations back', async () => {
    const b = await bridge({ limits: { maxConnections: 20, maxConnectionsPerAddress: 20, authFailuresBeforeLockout: 3 } });
    for (let round = 0; round < 3; round++) {
      const clients = await Promise.all(Array.from({ length: 3 }, () => ready(b.port)));
      const replies = await Promise.all(clients.map((c) => (typeof c === 'string' ? c : c.command(plain('printer', RIGHT)).finally(() => c.close()))));
      expect(replies.every((r) => r.startsWith('235 '))).toBe(true);
    }
    expect(b.logs.filter((l) => l.record.event === 'refused')).toEqual([]);
  });
});
