/**
 * Recognises an error that means a dependency (Redis, Kafka, Postgres) is out of reach, so the
 * one error handler answers 503 with Retry-After instead of 500: "try again in a moment", not a bug.
 */
export type Dependency = 'redis' | 'kafka' | 'postgres';

/** An error raised where a dependency's client failed to reach it, naming the dependency. */
export class DependencyUnavailableError extends Error {
  constructor(
    readonly dependency: Dependency,
    cause: unknown,
  ) {
    super(`${dependency} is unavailable: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'DependencyUnavailableError';
  }
}

export interface Outage {
  dependency: Dependency;
  code: string;
  retryAfterSeconds: number;
}

const retryAfterSeconds: Record<Dependency, number> = { redis: 1, kafka: 2, postgres: 2 };

// ioredis: the offline queue gave up, or a command met a closed connection.
const redisMessages = [/^Connection is closed\.?$/, /Stream isn't writeable/, /Cluster isn't ready/, /Failed to refresh slots cache/];
// pg: the connection broke, or the pool could not get one in time.
const postgresMessages = [/^Connection terminated/, /timeout exceeded when trying to connect/, /is not queryable/, /Client was closed/];
// SQLSTATE: connection exceptions (08), the server shutting down or starting (57P01–57P03), too many connections.
const postgresStates = /^(08...|57P0[123]|53300)$/;

function dependencyOf(error: Error): Dependency | undefined {
  if (error instanceof DependencyUnavailableError) return error.dependency;
  if (error.name === 'MaxRetriesPerRequestError' || error.name === 'ClusterAllFailedError') return 'redis';
  if (redisMessages.some((pattern) => pattern.test(error.message))) return 'redis';
  if (error.name.startsWith('KafkaJS')) return 'kafka';
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && postgresStates.test(code) && 'severity' in error) return 'postgres';
  if (postgresMessages.some((pattern) => pattern.test(error.message))) return 'postgres';
  return undefined;
}

/** The outage an error stands for, looking through its causes; undefined for anything else. */
export function outageOf(error: unknown): Outage | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    const dependency = dependencyOf(current);
    if (dependency)
      return { dependency, code: `${dependency.toUpperCase()}_UNAVAILABLE`, retryAfterSeconds: retryAfterSeconds[dependency] };
  }
  return undefined;
}
