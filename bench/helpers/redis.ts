import { HAS_REDIS } from '../../test/helpers/redis.js';

/** The test suite's throw-away redis-server. */
export { startRedis } from '../../test/helpers/redis.js';

/** Why Redis figures cannot be taken here, or undefined when redis-server is installed. */
export function redisMissing(): string | undefined {
  return HAS_REDIS ? undefined : 'redis-server is not installed (apt-get install -y redis-server)';
}
