import { createHash, randomUUID } from 'node:crypto';
import type { KeyvRedisLike, RedisLikeClient } from '../tokens/lock.js';
import { withTimeout } from '../tokens/timing.js';
import type { Ledger, Usage, Verdict } from './ledger.js';
import { WINDOW_MS } from './limits.js';
import type { BudgetLimits } from '../core/budget.js';

/**
 * Prunes what left the window, then decides and counts each message given, in order, in the
 * same script: Redis runs a script without interleaving any other command
 * (https://redis.io/docs/latest/develop/programmability/eval-intro/), so processes sharing the
 * store never both take the last message. KEYS: the sorted set of counted messages (score:
 * time, member: `<id>:<recipients>`), the running recipient total, the spent-until time.
 * ARGV: now, window, max messages, max recipients (-1: none), then a member and its recipients
 * per message (none: only read). Returns {spentUntil, messages, recipients} and, per message,
 * {counted, messages, recipients, waitMs}. The wait is the decision of ledger.ts's `decide`,
 * written again in Lua.
 */
const RESERVE_SCRIPT = script(`
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local maxM = tonumber(ARGV[3])
local maxR = tonumber(ARGV[4])
local cutoff = now - window
local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', cutoff)
if #old > 0 then
  local freed = 0
  for i = 1, #old do freed = freed + tonumber(string.match(old[i], '(%d+)$')) end
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', cutoff)
  redis.call('DECRBY', KEYS[2], freed)
end
local count = redis.call('ZCARD', KEYS[1])
local total = tonumber(redis.call('GET', KEYS[2]) or '0')
if count == 0 and total ~= 0 then
  redis.call('DEL', KEYS[2])
  total = 0
end
local spent = tonumber(redis.call('GET', KEYS[3]) or '0')
if spent <= now then spent = 0 end
local out = {spent, count, total}
local added = 0
local entries = nil
for j = 5, #ARGV, 2 do
  local n = tonumber(ARGV[j + 1])
  local wait = 0
  if spent > 0 then wait = spent - now end
  if maxM >= 0 and count + 1 > maxM then
    local w = window
    local e = redis.call('ZRANGE', KEYS[1], count - maxM, count - maxM, 'WITHSCORES')
    if #e > 0 then w = tonumber(e[2]) + window - now end
    if w > wait then wait = w end
  end
  if maxR >= 0 and total + n > maxR then
    local w = window
    if n <= maxR then
      local excess = total + n - maxR
      local freed = 0
      entries = entries or redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
      for i = 1, #entries, 2 do
        freed = freed + tonumber(string.match(entries[i], '(%d+)$'))
        if freed >= excess then
          w = tonumber(entries[i + 1]) + window - now
          break
        end
      end
    end
    if w > wait then wait = w end
  end
  if wait > 0 then
    out[#out + 1] = 0
    out[#out + 1] = count
    out[#out + 1] = total
    out[#out + 1] = wait
  else
    redis.call('ZADD', KEYS[1], now, ARGV[j])
    entries = nil
    count = count + 1
    total = total + n
    added = added + n
    out[#out + 1] = 1
    out[#out + 1] = count
    out[#out + 1] = total
    out[#out + 1] = 0
  end
end
if #out > 3 then
  redis.call('INCRBY', KEYS[2], added)
  redis.call('PEXPIRE', KEYS[1], window)
  redis.call('PEXPIRE', KEYS[2], window)
end
return out
`);

/** Takes back one counted message (KEYS: set, total; ARGV: member, recipients). */
const RELEASE_SCRIPT = script("if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then redis.call('DECRBY', KEYS[2], ARGV[2]) end return 1");

/** Moves the spent-until time later, never earlier (KEYS: spent; ARGV: until, ttl). */
const SPENT_SCRIPT = script(
  "if tonumber(ARGV[1]) > tonumber(redis.call('GET', KEYS[1]) or '0') then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end return 1",
);

/** Messages decided by one script call at most: Redis runs nothing else while a script runs. */
const BATCH_MAX = 200;

interface Script {
  body: string;
  sha: string;
}

function script(body: string): Script {
  return { body, sha: createHash('sha1').update(body).digest('hex') };
}

type ScriptOptions = { keys: string[]; arguments: string[] };

/** node-redis's EVALSHA, beside the EVAL the token lock uses. */
type ScriptClient = RedisLikeClient & { evalSha?(sha: string, options: ScriptOptions): Promise<unknown> };

/** Reservations of one key and limits, waiting for the next script call. */
interface Batch {
  key: string;
  limits: BudgetLimits;
  now: number;
  items: Array<{ member: string; recipients: number; settle: (verdict: Verdict | Error) => void }>;
}

/**
 * The atomic ledger of a Keyv + @keyv/redis store: a sorted set per mailbox, driven by Lua
 * scripts through the adapter's own client, as the token lock reaches Redis (tokens/lock.ts).
 * Reservations made in the same turn of the event loop (a burst of sends) go to Redis in one
 * script call per mailbox: one round trip and one script run for many messages, decided one
 * after another as if they had come one by one. Time comes from this process's clock, passed
 * in: processes sharing a budget need clocks within a second or so of each other, as NTP keeps them.
 */
export class RedisLedger implements Ledger {
  readonly kind = 'redis';
  readonly #adapter: KeyvRedisLike;
  /** Scripts this ledger's server has run, as far as it knows. */
  readonly #loaded = new Set<string>();
  /** Counted messages are `<this>.<n>:<recipients>`: unique across processes without a random UUID each. */
  readonly #prefix = randomUUID();
  #serial = 0;
  #client: ScriptClient | undefined;
  readonly #batches = new Map<string, Batch>();
  readonly #timeoutMs: number;

  /** `timeoutMs` bounds each call to Redis (a batch of reservations is one call). */
  constructor(adapter: KeyvRedisLike, timeoutMs: number) {
    this.#adapter = adapter;
    this.#timeoutMs = timeoutMs;
  }

  reserve(key: string, recipients: number, limits: BudgetLimits, now: number): Promise<Verdict> {
    const id = `${key}\n${limits.messagesPerDay ?? -1}\n${limits.recipientsPerDay ?? -1}`;
    let batch = this.#batches.get(id);
    if (!batch) {
      batch = { key, limits, now, items: [] };
      this.#batches.set(id, batch);
      if (this.#batches.size === 1) setImmediate(() => this.#flush());
    }
    batch.now = Math.max(batch.now, now);
    const member = `${this.#prefix}.${++this.#serial}:${recipients}`;
    const items = batch.items;
    return new Promise((resolve, reject) => items.push({ member, recipients, settle: (v) => (v instanceof Error ? reject(v) : resolve(v)) }));
  }

  async release(key: string, handle: unknown): Promise<void> {
    const { member, recipients } = handle as { member: string; recipients: number };
    await this.#eval(RELEASE_SCRIPT, [`${key}:log`, `${key}:rcpt`], [member, String(recipients)]);
  }

  async markSpent(key: string, until: number, now: number): Promise<void> {
    await this.#eval(SPENT_SCRIPT, [`${key}:spent`], [String(until), String(Math.max(1, until - now))]);
  }

  async usage(key: string, now: number): Promise<Usage> {
    const [spentUntil, messages, recipients] = await this.#run(key, {}, now, []);
    return { messages: messages!, recipients: recipients!, spentUntil: spentUntil! };
  }

  #flush(): void {
    const batches = [...this.#batches.values()];
    this.#batches.clear();
    for (const batch of batches) {
      for (let start = 0; start < batch.items.length; start += BATCH_MAX) void this.#decide(batch, batch.items.slice(start, start + BATCH_MAX));
    }
  }

  async #decide(batch: Batch, items: Batch['items']): Promise<void> {
    let reply: number[];
    try {
      reply = await this.#run(
        batch.key,
        batch.limits,
        batch.now,
        items.flatMap((item) => [item.member, String(item.recipients)]),
      );
      if (reply.length !== 3 + 4 * items.length) throw Object.assign(new Error('unexpected reply from the budget script'), { code: 'EBADREPLY' });
    } catch (err) {
      for (const item of items) item.settle(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    const spentUntil = reply[0]!;
    items.forEach((item, i) => {
      const [counted, messages, recipients, waitMs] = reply.slice(3 + 4 * i, 7 + 4 * i) as [number, number, number, number];
      const usage: Usage = { messages, recipients, spentUntil };
      item.settle(counted === 1 ? { ok: true, usage, handle: { member: item.member, recipients: item.recipients } } : { ok: false, usage, waitMs });
    });
  }

  async #run(key: string, limits: BudgetLimits, now: number, messages: string[]): Promise<number[]> {
    const reply = await this.#eval(
      RESERVE_SCRIPT,
      [`${key}:log`, `${key}:rcpt`, `${key}:spent`],
      [String(now), String(WINDOW_MS), String(limits.messagesPerDay ?? -1), String(limits.recipientsPerDay ?? -1), ...messages],
    );
    if (!Array.isArray(reply)) throw Object.assign(new Error('unexpected reply from the budget script'), { code: 'EBADREPLY' });
    return reply.map(Number);
  }

  /**
   * Runs a script by its SHA-1 (EVALSHA: a few bytes a call instead of the script) once this
   * ledger has run it with EVAL, which loads it; EVAL again when the server lost it (NOSCRIPT
   * after a restart or a flush).
   */
  #eval(script: Script, keys: string[], args: string[]): Promise<unknown> {
    return withTimeout(this.#evalUnbounded(script, keys, args), this.#timeoutMs, 'budget store script');
  }

  async #evalUnbounded(script: Script, keys: string[], args: string[]): Promise<unknown> {
    // The adapter keeps one client (node-redis reconnects it by itself): asked for once.
    const client: ScriptClient = (this.#client ??= await this.#adapter.getClient());
    const options = { keys, arguments: args };
    if (this.#loaded.has(script.sha) && typeof client.evalSha === 'function') {
      try {
        return await client.evalSha(script.sha, options);
      } catch (err) {
        if (!/NOSCRIPT/.test(String((err as { message?: unknown } | null)?.message))) throw err;
        this.#loaded.delete(script.sha);
      }
    }
    if (typeof client.eval !== 'function') throw Object.assign(new Error('the Redis client cannot run scripts'), { code: 'ENOEVAL' });
    const reply = await client.eval(script.body, options);
    this.#loaded.add(script.sha);
    return reply;
  }
}
