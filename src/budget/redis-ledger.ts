import { createHash, randomUUID } from 'node:crypto';
import type { KeyvRedisLike, RedisLikeClient } from '../tokens/lock.js';
import type { Ledger, Usage, Verdict } from './ledger.js';
import { WINDOW_MS } from './limits.js';
import type { BudgetLimits } from './types.js';

/**
 * Prunes what left the window, then (mode `reserve`) decides and counts one message in the
 * same script: Redis runs a script without interleaving any other command
 * (https://redis.io/docs/latest/develop/programmability/eval-intro/), so processes sharing the
 * store never both take the last message. KEYS: the sorted set of counted messages (score:
 * time, member: `<id>:<recipients>`), the running recipient total, the spent-until time.
 * ARGV: now, window, max messages, max recipients (-1: none), recipients, member, mode.
 * Returns {counted, messages, recipients, spentUntil, waitMs}. The wait is the decision of
 * ledger.ts's `decide`, written again in Lua.
 */
const RESERVE_SCRIPT = script(`
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local maxM = tonumber(ARGV[3])
local maxR = tonumber(ARGV[4])
local n = tonumber(ARGV[5])
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
if ARGV[7] ~= 'reserve' then return {0, count, total, spent, 0} end
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
    local all = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
    for i = 1, #all, 2 do
      freed = freed + tonumber(string.match(all[i], '(%d+)$'))
      if freed >= excess then
        w = tonumber(all[i + 1]) + window - now
        break
      end
    end
  end
  if w > wait then wait = w end
end
if wait > 0 then return {0, count, total, spent, wait} end
redis.call('ZADD', KEYS[1], now, ARGV[6])
total = redis.call('INCRBY', KEYS[2], n)
redis.call('PEXPIRE', KEYS[1], window)
redis.call('PEXPIRE', KEYS[2], window)
return {1, count + 1, total, spent, 0}
`);

/** Takes back one counted message (KEYS: set, total; ARGV: member, recipients). */
const RELEASE_SCRIPT = script("if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then redis.call('DECRBY', KEYS[2], ARGV[2]) end return 1");

/** Moves the spent-until time later, never earlier (KEYS: spent; ARGV: until, ttl). */
const SPENT_SCRIPT = script("if tonumber(ARGV[1]) > tonumber(redis.call('GET', KEYS[1]) or '0') then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end return 1");

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

/**
 * The atomic ledger of a Keyv + @keyv/redis store: a sorted set per mailbox, driven by Lua
 * scripts through the adapter's own client, as the token lock reaches Redis (tokens/lock.ts).
 * Time comes from this process's clock, passed in: processes sharing a budget need clocks
 * within a second or so of each other, as NTP keeps them.
 */
export class RedisLedger implements Ledger {
  readonly kind = 'redis';
  readonly #adapter: KeyvRedisLike;
  /** Scripts this ledger's server has run, as far as it knows. */
  readonly #loaded = new Set<string>();

  constructor(adapter: KeyvRedisLike) {
    this.#adapter = adapter;
  }

  async reserve(key: string, recipients: number, limits: BudgetLimits, now: number): Promise<Verdict> {
    const member = `${randomUUID()}:${recipients}`;
    const [counted, messages, total, spentUntil, waitMs] = await this.#run(key, recipients, limits, now, member, 'reserve');
    const usage: Usage = { messages, recipients: total, spentUntil };
    return counted === 1 ? { ok: true, usage, handle: { member, recipients } } : { ok: false, usage, waitMs };
  }

  async release(key: string, handle: unknown): Promise<void> {
    const { member, recipients } = handle as { member: string; recipients: number };
    await this.#eval(RELEASE_SCRIPT, [`${key}:log`, `${key}:rcpt`], [member, String(recipients)]);
  }

  async markSpent(key: string, until: number, now: number): Promise<void> {
    await this.#eval(SPENT_SCRIPT, [`${key}:spent`], [String(until), String(Math.max(1, until - now))]);
  }

  async usage(key: string, now: number): Promise<Usage> {
    const [, messages, recipients, spentUntil] = await this.#run(key, 0, {}, now, '', 'peek');
    return { messages, recipients, spentUntil };
  }

  async #run(key: string, recipients: number, limits: BudgetLimits, now: number, member: string, mode: string): Promise<[number, number, number, number, number]> {
    const reply = await this.#eval(
      RESERVE_SCRIPT,
      [`${key}:log`, `${key}:rcpt`, `${key}:spent`],
      [String(now), String(WINDOW_MS), String(limits.messagesPerDay ?? -1), String(limits.recipientsPerDay ?? -1), String(recipients), member, mode],
    );
    if (!Array.isArray(reply) || reply.length !== 5) throw Object.assign(new Error('unexpected reply from the budget script'), { code: 'EBADREPLY' });
    return reply.map(Number) as [number, number, number, number, number];
  }

  /**
   * Runs a script by its SHA-1 (EVALSHA: a few bytes a call instead of the script) once this
   * ledger has run it with EVAL, which loads it; EVAL again when the server lost it (NOSCRIPT
   * after a restart or a flush).
   */
  async #eval(script: Script, keys: string[], args: string[]): Promise<unknown> {
    const client: ScriptClient = await this.#adapter.getClient();
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
