import { randomBytes, timingSafeEqual } from 'node:crypto';

/** One logged-in browser. */
export interface ConsoleSession {
  readonly id: string;
  readonly user: string;
  /** Every form of this session carries it back; a request without it is refused (CSRF). */
  readonly csrf: string;
  readonly createdAt: number;
  lastSeen: number;
}

/** How long a console session lasts: idle, and at most. */
export const SESSION_LIMITS = Object.freeze({ idleMs: 30 * 60_000, maxMs: 12 * 60 * 60_000, maxSessions: 1_000 });

/**
 * The console's sessions, in memory: a restart logs everyone out, which is what an admin
 * expects of a device's web page. Ids and CSRF tokens are 32 random bytes each.
 */
export class ConsoleSessions {
  readonly #sessions = new Map<string, ConsoleSession>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  create(user: string): ConsoleSession {
    const now = this.#now();
    this.#prune(now);
    const session: ConsoleSession = { id: randomToken(), user, csrf: randomToken(), createdAt: now, lastSeen: now };
    this.#sessions.set(session.id, session);
    return session;
  }

  /** The live session with this id (its idle time restarts), or `undefined`. */
  get(id: string | undefined): ConsoleSession | undefined {
    if (!id) return undefined;
    const session = this.#sessions.get(id);
    if (!session) return undefined;
    const now = this.#now();
    if (expired(session, now)) {
      this.#sessions.delete(id);
      return undefined;
    }
    session.lastSeen = now;
    return session;
  }

  destroy(id: string): void {
    this.#sessions.delete(id);
  }

  #prune(now: number): void {
    for (const [id, session] of this.#sessions) if (expired(session, now)) this.#sessions.delete(id);
    // Still full: the oldest session goes (Map keeps insertion order).
    while (this.#sessions.size >= SESSION_LIMITS.maxSessions) {
      const oldest = this.#sessions.keys().next().value;
      if (oldest === undefined) break;
      this.#sessions.delete(oldest);
    }
  }
}

function expired(session: ConsoleSession, now: number): boolean {
  return now - session.lastSeen > SESSION_LIMITS.idleMs || now - session.createdAt > SESSION_LIMITS.maxMs;
}

export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Compares a token from a request with the expected one in constant time. */
export function sameToken(given: string | undefined | null, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The request's cookies (the first of each name wins). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (!cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
  }
  return cookies;
}

/**
 * A Set-Cookie value: always HttpOnly (no script reads it) and SameSite=Strict (no other site's
 * page sends it along), Secure under TLS. `maxAgeSeconds: 0` deletes it.
 */
export function cookie(name: string, value: string, opts: { secure: boolean; maxAgeSeconds?: number }): string {
  return [
    `${name}=${value}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    ...(opts.secure ? ['Secure'] : []),
    ...(opts.maxAgeSeconds !== undefined ? [`Max-Age=${opts.maxAgeSeconds}`] : []),
  ].join('; ');
}
