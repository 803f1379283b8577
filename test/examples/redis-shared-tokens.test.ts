import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAS_REDIS, REDIS_SKIP_REASON, startRedis, type RedisServer } from '../helpers/redis.js';
import { runTsx } from './run.js';

describe.skipIf(!HAS_REDIS)(`examples/redis-shared-tokens.ts${REDIS_SKIP_REASON}`, () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis?.stop());

  it('three cluster workers starting cold share one access token through Redis: one token request in all', async () => {
    const { code, stdout, stderr } = await runTsx(['examples/lib/run-local.ts', 'redis-shared-tokens'], {
      env: { PATH: process.env.PATH, REDIS_URL: redis.url },
      timeoutMs: 90_000,
    });
    expect(stderr).not.toMatch(/Error/);
    expect(code).toBe(0);
    const workers = stdout.split('\n').filter((line) => /^worker \d: /.test(line));
    expect(workers).toHaveLength(3);
    for (const line of workers) expect(line).toMatch(/^worker \d: sent <[^>]+>, access token from (Google's token endpoint|Redis)$/);
    expect(workers.filter((line) => line.endsWith("Google's token endpoint"))).toHaveLength(1);
    expect(stdout).toContain('3 workers, 1 token request(s) to Google.');
    expect(stdout).toContain('The local token endpoint issued 1 token(s).');
    expect(stdout).toContain('The local stand-ins received 3 message(s):');
  }, 90_000);
});
