import { Redis } from 'ioredis';

/** A Redis client as the services use it: commands pipelined automatically, failing fast when Redis is away. */
export function connectRedis(url: string): Redis {
  return new Redis(url, { enableAutoPipelining: true, maxRetriesPerRequest: 2 });
}

/** For readiness: Redis answers PING. */
export async function redisAnswers(redis: Redis): Promise<boolean> {
  return (await redis.ping().catch(() => '')) === 'PONG';
}
