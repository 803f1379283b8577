import { randomBytes } from 'node:crypto';
import type { Logger } from '../../core/logger.js';
import { AuthLockout, UNKNOWN_ACCOUNT } from '../lockout.js';
import { DEFAULT_SCRYPT, verifyPassword, type ParsedPasswordHash } from '../password-hash.js';

/** The verdict on one login attempt. */
export type LoginVerdict =
  { ok: true; user: string } | { ok: false; reason: 'failed' | 'locked'; lockedUntil?: number; startedLockout?: { failures: number; until: number } };

/**
 * Checks admin logins, from the form and from HTTP Basic alike, with the same lockout rules as
 * the SMTP side: failures are counted per address, whichever user they tried, and an address
 * that reaches the limit is refused without a check until the lockout ends.
 */
export class ConsoleLogins {
  readonly lockout: AuthLockout;
  readonly #users: ReadonlyMap<string, ParsedPasswordHash>;
  readonly #decoy: ParsedPasswordHash;

  constructor(users: ReadonlyMap<string, ParsedPasswordHash>, limits: { authFailuresBeforeLockout: number; lockoutMinutes: number }) {
    this.#users = users;
    this.lockout = new AuthLockout(limits.authFailuresBeforeLockout, limits.lockoutMinutes * 60_000);
    // An unknown user is checked against random bytes with a real user's parameters: the
    // answer takes as long as for a known user with a wrong password.
    const first = users.values().next().value;
    this.#decoy = { ...(first ?? DEFAULT_SCRYPT), salt: randomBytes(16), hash: randomBytes(32) };
  }

  async check(address: string, user: string, password: string): Promise<LoginVerdict> {
    if (!this.lockout.reserve(address)) return { ok: false, reason: 'locked', ...lockedUntil(this.lockout, address) };
    const hash = this.#users.get(user);
    let matches: boolean;
    try {
      matches = await verifyPassword(password, hash ?? this.#decoy);
    } catch {
      this.lockout.release(address);
      return { ok: false, reason: 'failed' };
    }
    if (matches && hash) {
      this.lockout.recordSuccess(address, user);
      return { ok: true, user };
    }
    const { failures, lockedUntil: until } = this.lockout.recordFailure(address, hash ? user : UNKNOWN_ACCOUNT);
    return { ok: false, reason: 'failed', ...(until !== undefined ? { startedLockout: { failures, until } } : {}) };
  }
}

function lockedUntil(lockout: AuthLockout, address: string): { lockedUntil?: number } {
  const until = lockout.lockedUntil(address);
  return until !== undefined ? { lockedUntil: until } : {};
}

/** The user and password of an `Authorization: Basic …` header (RFC 7617), or `undefined`. */
export function parseBasicAuth(header: string | undefined): { user: string; password: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!match) return undefined;
  const text = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  return { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

/**
 * Logs a refused login, and the lockout it started. `user` only when it is a real admin user:
 * a password is sometimes typed into the user field.
 */
export function reportFailure(
  logger: Logger | undefined,
  client: string,
  user: string | undefined,
  verdict: LoginVerdict & { ok: false },
  via: 'form' | 'basic',
): void {
  logger?.warn?.(
    { event: 'admin-login-failed', client, ...(user ? { admin: user } : {}), reason: verdict.reason, via },
    'gmail-transport bridge: failed login to the admin console',
  );
  if (verdict.startedLockout) {
    logger?.warn?.(
      { event: 'admin-lockout', client, failures: verdict.startedLockout.failures, until: verdict.startedLockout.until },
      'gmail-transport bridge: address locked out of the admin console after failed logins',
    );
  }
}
