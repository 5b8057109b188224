import { Redis, type RedisOptions } from 'ioredis';

/**
 * How the services' Redis clients behave: commands pipelined automatically, and, while Redis is
 * away, a command fails within about a second and a half (two reconnect attempts at most 500 ms
 * apart) so the shopper gets 503 REDIS_UNAVAILABLE at once instead of waiting on ioredis's
 * exponential back-off (up to 5 s an attempt).
 */
export const redisClientOptions: RedisOptions = {
  enableAutoPipelining: true,
  maxRetriesPerRequest: 2,
  retryStrategy: (attempt) => Math.min(attempt * 100, 500),
};

/** A Redis client as the services use it (see redisClientOptions). */
export function connectRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, { ...redisClientOptions, ...options });
}

/** For readiness: Redis answers PING. */
export async function redisAnswers(redis: Redis): Promise<boolean> {
  return (await redis.ping().catch(() => '')) === 'PONG';
}
