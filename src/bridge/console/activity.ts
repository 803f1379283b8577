import type { ErrorCode } from '../../errors/error.js';
import type { TransportEvents } from '../../core/events.js';
import type { BridgeLockoutRecord, BridgeMessageRecord } from '../types.js';

/** Upper bounds of the upstream latency histogram, in seconds (Prometheus `le`). */
export const LATENCY_BUCKETS = [0.25, 0.5, 1, 2, 5, 10, 30, 60] as const;

export interface LastDelivery {
  time: number;
  account?: string;
  client: string;
  recipients: number;
}

export interface LastFailure {
  time: number;
  code: ErrorCode | 'LOCAL';
  /** What the device was told, e.g. `451 4.4.1`. */
  reply: string;
  account?: string;
  client: string;
}

export interface TokenState {
  /** When the access token in use expires (ms since epoch). */
  expiresAt: number;
  /** When one was last fetched from Google (not read from a shared store). */
  refreshedAt?: number;
}

/**
 * What the console shows and /metrics counts, gathered from the bridge's own events while it
 * runs: the last delivery and failure, the upstream's token, counters. Nothing here holds a
 * message body, a password or a token.
 */
export class ConsoleActivity {
  readonly startedAt: number;
  lastDelivery?: LastDelivery;
  lastFailure?: LastFailure;
  token?: TokenState;
  /** Messages by outcome and upstream code (`''` when there is none). */
  readonly messages = new Map<string, { outcome: string; code: string; count: number }>();
  readonly latency = { buckets: LATENCY_BUCKETS.map(() => 0), count: 0, sumSeconds: 0 };
  tokenRefreshes = 0;
  lockouts = 0;
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
    this.startedAt = now();
  }

  noteMessage(record: BridgeMessageRecord): void {
    const code = record.upstreamCode ?? '';
    const key = `${record.outcome}\0${code}`;
    const entry = this.messages.get(key) ?? { outcome: record.outcome, code, count: 0 };
    entry.count++;
    this.messages.set(key, entry);
    const who = { ...(record.account !== undefined ? { account: record.account } : {}), client: record.client };
    if (record.outcome === 'delivered') {
      this.lastDelivery = { time: this.#now(), ...who, recipients: record.recipients };
    } else {
      this.lastFailure = { time: this.#now(), code: record.upstreamCode ?? 'LOCAL', reply: record.reply, ...who };
    }
    // Only messages that went upstream say how long the upstream took.
    if (record.upstreamCode !== undefined || record.outcome === 'delivered') {
      const seconds = record.latencyMs / 1000;
      LATENCY_BUCKETS.forEach((le, i) => {
        if (seconds <= le) this.latency.buckets[i]!++;
      });
      this.latency.count++;
      this.latency.sumSeconds += seconds;
    }
  }

  /**
   * A test message from the console: the last delivery or failure, as a device's would be (not
   * counted in the metrics, which count the devices' messages).
   */
  noteTest(outcome: { ok: true; account: string; client: string } | { ok: false; code: ErrorCode; reply: string; account: string; client: string }): void {
    const who = { account: outcome.account, client: outcome.client };
    if (outcome.ok) this.lastDelivery = { time: this.#now(), ...who, recipients: 1 };
    else this.lastFailure = { time: this.#now(), code: outcome.code, reply: outcome.reply, ...who };
  }

  noteToken(event: TransportEvents['token']): void {
    const refreshedAt = event.source === 'endpoint' ? this.#now() : this.token?.refreshedAt;
    if (event.source === 'endpoint') this.tokenRefreshes++;
    this.token = { expiresAt: event.expiresAt, ...(refreshedAt !== undefined ? { refreshedAt } : {}) };
  }

  noteLockout(_record: BridgeLockoutRecord): void {
    this.lockouts++;
  }
}
