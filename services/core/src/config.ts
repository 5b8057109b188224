import { z } from 'zod';
import { describeIssues } from './deal-spec.js';
import { redisConfigShape, redisTopology, type RedisSettings } from './redis/connect.js';

/** A yes/no setting: `true`/`false` or `1`/`0`, `fallback` when unset. */
export const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'])
    .default(fallback ? 'true' : 'false')
    .transform((value) => value === 'true' || value === '1');

/** Settings every service shares; each service extends this with its own. */
export const commonConfigSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535),
  HOST: z.string().default('0.0.0.0'),
  ...redisConfigShape,
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
  KAFKA_BROKERS: z
    .string()
    .min(1)
    .transform((value) =>
      value
        .split(',')
        .map((broker) => broker.trim())
        .filter(Boolean),
    ),
  KAFKA_CLIENT_ID: z.string().default('quickdeal'),
  KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9._-]+$/)
    .default('quickdeal.tickets.'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
  // Above any proxy's idle time for upstream connections (60 s is common), so a proxy never reuses a socket the service is closing.
  HTTP_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(65_000),
  // Above the keep-alive timeout (Node's own advice); HTTP_KEEP_ALIVE_TIMEOUT_MS + 1 s when not set.
  HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(3_601_000).optional(),
});

export class ConfigError extends Error {}

/**
 * Parses configuration from the environment once, at start. A bad value throws a ConfigError
 * whose message names every offending variable; main.ts prints it and exits non-zero.
 */
export function parseConfig<T extends z.ZodType>(schema: T, env: Record<string, string | undefined>): z.output<T> {
  const result = schema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(`invalid configuration: ${describeIssues(result.error)}`);
  }
  if (schema instanceof z.ZodObject && 'REDIS_URL' in schema.shape) {
    try {
      redisTopology(result.data as RedisSettings); // exactly one Redis topology, complete
    } catch (error) {
      throw new ConfigError(`invalid configuration: ${(error as Error).message}`);
    }
  }
  return result.data;
}
