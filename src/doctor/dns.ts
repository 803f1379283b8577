import { promises as dns } from 'node:dns';

/**
 * What one DNS question came back with. A missing record (the name does not exist, or has no
 * record of that type) is a fact about the domain; a failure (SERVFAIL, time-out, refused) is
 * a fact about the resolver, and a check built on it says it could not be made.
 */
export type Lookup<T> = { kind: 'found'; value: T } | { kind: 'missing'; reason: 'nxdomain' | 'nodata' } | { kind: 'failed'; code: string };

/** The DNS questions the doctor asks. */
export interface DnsSource {
  /** TXT records at `name`, each record's strings joined (RFC 7208 §3.3, RFC 6376 §3.6.2.2). */
  txt(name: string): Promise<Lookup<string[]>>;
  mx(name: string): Promise<Lookup<{ exchange: string; priority: number }[]>>;
}

/** Time limits of one doctor run. */
export interface DnsLimits {
  /** One question gives up after this long. */
  queryTimeoutMs: number;
  /** No new question is asked after this long since the first: each then fails at once. */
  runTimeoutMs: number;
}

export const DEFAULT_DNS_LIMITS: DnsLimits = Object.freeze({ queryTimeoutMs: 3000, runTimeoutMs: 10_000 });

/**
 * A resolver for one run: node's c-ares resolver (the system's servers, or `servers`), each
 * answer cached for the run (an SPF tree names the same domains often), every question bounded
 * by our own timer as well as c-ares' so that a resolver that never answers costs one
 * time-out, not minutes.
 */
export class DnsClient implements DnsSource {
  readonly #resolver: dns.Resolver;
  readonly #limits: DnsLimits;
  readonly #cache = new Map<string, Promise<Lookup<unknown>>>();
  readonly #deadline: number;

  constructor(servers: readonly string[] | undefined, limits: DnsLimits = DEFAULT_DNS_LIMITS) {
    this.#limits = limits;
    // c-ares doubles its time-out on each try: 2 tries of a third each end within the limit.
    this.#resolver = new dns.Resolver({ timeout: Math.max(100, Math.floor(limits.queryTimeoutMs / 3)), tries: 2 });
    if (servers && servers.length > 0) this.#resolver.setServers([...servers]);
    this.#deadline = Date.now() + limits.runTimeoutMs;
  }

  txt(name: string): Promise<Lookup<string[]>> {
    return this.#ask(`TXT ${name}`, async () => (await this.#resolver.resolveTxt(name)).map((chunks) => chunks.join('')));
  }

  mx(name: string): Promise<Lookup<{ exchange: string; priority: number }[]>> {
    return this.#ask(`MX ${name}`, () => this.#resolver.resolveMx(name));
  }

  /** Drops the questions still open, so a run never outlives its report. */
  close(): void {
    this.#resolver.cancel();
  }

  #ask<T>(key: string, query: () => Promise<T>): Promise<Lookup<T>> {
    const cached = this.#cache.get(key);
    if (cached) return cached as Promise<Lookup<T>>;
    const result = this.#run(query);
    this.#cache.set(key, result);
    return result;
  }

  async #run<T>(query: () => Promise<T>): Promise<Lookup<T>> {
    const left = this.#deadline - Date.now();
    if (left <= 0) return { kind: 'failed', code: 'ETIMEOUT' };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<Lookup<T>>((resolve) => {
      timer = setTimeout(() => resolve({ kind: 'failed', code: 'ETIMEOUT' }), Math.min(left, this.#limits.queryTimeoutMs));
    });
    const answer = query().then(
      (value): Lookup<T> => ({ kind: 'found', value }),
      (err: unknown): Lookup<T> => classify(err),
    );
    try {
      return await Promise.race([answer, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

function classify<T>(err: unknown): Lookup<T> {
  const code = (err as { code?: unknown }).code;
  if (code === 'ENOTFOUND') return { kind: 'missing', reason: 'nxdomain' };
  if (code === 'ENODATA') return { kind: 'missing', reason: 'nodata' };
  return { kind: 'failed', code: typeof code === 'string' ? code : 'EDNS' };
}

/**
 * Parses `--dns-server` / `dnsServer`: an IP address with an optional port (`127.0.0.1:5353`,
 * `[::1]:53`, `::1`). node's resolver takes addresses only, never host names.
 * @returns the form `setServers` takes, or undefined when it is not one.
 */
export function parseDnsServer(text: string): string | undefined {
  const value = text.trim();
  const bracketed = /^\[([0-9a-f:.]+)\](?::(\d{1,5}))?$/i.exec(value);
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?$/.exec(value);
  let address: string;
  let port: string | undefined;
  if (bracketed) [, address = '', port] = bracketed;
  else if (v4) [, address = '', port] = v4;
  else if (/^[0-9a-f:]+$/i.test(value) && value.includes(':')) address = value;
  else return undefined;
  if (v4 && address.split('.').some((octet) => Number(octet) > 255)) return undefined;
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return undefined;
  const isV6 = address.includes(':');
  if (port === undefined) return address;
  return isV6 ? `[${address}]:${port}` : `${address}:${port}`;
}
