import { Cluster, Redis, type ClusterNode, type RedisOptions } from 'ioredis';
import { z } from 'zod';

/** What the services talk to: one Redis (standalone or found through Sentinel) or a Redis Cluster. */
export type RedisClient = Redis | Cluster;

export interface HostPort {
  host: string;
  port: number;
}

/**
 * Where Redis is. Exactly one topology per process, chosen by configuration:
 * `REDIS_URL` (standalone), `REDIS_CLUSTER_NODES` (Redis Cluster) or `REDIS_SENTINELS` with
 * `REDIS_SENTINEL_NAME` (a primary and its replicas watched by Sentinel).
 */
export type RedisTopology =
  | { kind: 'standalone'; url: string }
  | { kind: 'cluster'; nodes: HostPort[]; password?: string | undefined }
  | { kind: 'sentinel'; sentinels: HostPort[]; name: string; password?: string | undefined };

const hostPortList = z
  .string()
  .min(1)
  .transform((value, context) => {
    const nodes: HostPort[] = [];
    for (const entry of value
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean)) {
      const match = /^([^\s:]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(entry);
      const port = Number(match?.[2]);
      if (!match || port < 1 || port > 65535) {
        context.addIssue({ code: 'custom', message: `'${entry}' is not host:port` });
        return z.NEVER;
      }
      nodes.push({ host: (match[1] as string).replace(/^\[|\]$/g, ''), port });
    }
    return nodes;
  });

/** `host:port,host:port` as a list; throws on anything else. */
export function parseHostPorts(list: string): HostPort[] {
  return hostPortList.parse(list);
}

/** The Redis settings every service's configuration carries (see the README's configuration table). */
export const redisConfigShape = {
  REDIS_URL: z.string().url().optional(),
  REDIS_CLUSTER_NODES: hostPortList.optional(),
  REDIS_SENTINELS: hostPortList.optional(),
  REDIS_SENTINEL_NAME: z.string().min(1).optional(),
  REDIS_PASSWORD: z.string().min(1).optional(),
  /** Replicas that must hold a ticket's record before its 201 (Redis WAIT); 0 where Redis has none. */
  REDIS_WAIT_REPLICAS: z.coerce.number().int().min(0).max(5).default(0),
  /** How long a ticket's answer waits for them; past it the ticket is answered and counted as unreplicated. */
  REDIS_WAIT_TIMEOUT_MS: z.coerce.number().int().min(1).max(5_000).default(100),
};

export type RedisSettings = {
  [K in keyof typeof redisConfigShape]?: z.output<(typeof redisConfigShape)[K]>;
};

/** The topology the settings name; throws with the variables to fix unless they name exactly one. */
export function redisTopology(settings: RedisSettings): RedisTopology {
  const named = [
    settings.REDIS_URL !== undefined && 'REDIS_URL',
    settings.REDIS_CLUSTER_NODES !== undefined && 'REDIS_CLUSTER_NODES',
    settings.REDIS_SENTINELS !== undefined && 'REDIS_SENTINELS',
  ].filter((name): name is string => name !== false);
  if (named.length !== 1) {
    throw new Error(
      named.length === 0
        ? 'REDIS_URL: set one of REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS (with REDIS_SENTINEL_NAME)'
        : `${named.join(', ')}: set only one Redis topology`,
    );
  }
  if (settings.REDIS_SENTINELS && !settings.REDIS_SENTINEL_NAME) {
    throw new Error('REDIS_SENTINEL_NAME: required with REDIS_SENTINELS (the name of the primary Sentinel watches)');
  }
  if (!settings.REDIS_SENTINELS && settings.REDIS_SENTINEL_NAME) {
    throw new Error('REDIS_SENTINEL_NAME: only meaningful with REDIS_SENTINELS');
  }
  const password = settings.REDIS_PASSWORD;
  if (settings.REDIS_CLUSTER_NODES) return { kind: 'cluster', nodes: settings.REDIS_CLUSTER_NODES, password };
  if (settings.REDIS_SENTINELS)
    return { kind: 'sentinel', sentinels: settings.REDIS_SENTINELS, name: settings.REDIS_SENTINEL_NAME as string, password };
  return { kind: 'standalone', url: settings.REDIS_URL as string };
}

/** The topology named by environment-style settings (REDIS_URL, REDIS_CLUSTER_NODES, …), as the services read them. */
export function redisTopologyFromEnv(env: Record<string, string | undefined>): RedisTopology {
  return redisTopology(z.object(redisConfigShape).parse(env));
}

/**
 * `commands`: the services' client, commands pipelined automatically and failing fast (a request
 * is answered 503 rather than hanging) when Redis is away.
 * `subscriber`: for pub/sub, which must reconnect and resubscribe for as long as the process lives.
 */
export type RedisRole = 'commands' | 'subscriber';

/**
 * How the services' command clients behave: commands pipelined automatically, and, while Redis is
 * away, a command fails within about a second and a half (two reconnect attempts at most 500 ms
 * apart) so the shopper gets 503 REDIS_UNAVAILABLE at once instead of waiting on ioredis's
 * exponential back-off (up to 5 s an attempt).
 */
export const redisClientOptions: RedisOptions = {
  enableAutoPipelining: true,
  maxRetriesPerRequest: 2,
  retryStrategy: (attempt) => Math.min(attempt * 100, 500),
};

// A failover takes the cluster a few seconds (cluster-node-timeout plus the election): commands
// wait for the new topology this long in total before failing.
const clusterRetryDelayMs = 200;

/** A client for the topology (a URL string means standalone), the same for all three kinds. */
export function connectRedis(target: RedisTopology | string, role: RedisRole = 'commands'): RedisClient {
  const topology: RedisTopology = typeof target === 'string' ? { kind: 'standalone', url: target } : target;
  const options: RedisOptions = role === 'commands' ? redisClientOptions : {};
  switch (topology.kind) {
    case 'standalone':
      return new Redis(topology.url, options);
    case 'sentinel':
      return new Redis({
        ...options,
        sentinels: topology.sentinels,
        name: topology.name,
        password: topology.password,
        sentinelPassword: topology.password,
      });
    case 'cluster':
      return new Cluster(topology.nodes as ClusterNode[], {
        // Off: ioredis 6 auto-pipelines the scripts of two deals on different primaries into one
        // pipeline and fails it ("All keys in the pipeline should belong to the same slots
        // allocation group"); the cluster test 'runs scripts of deals on different primaries' proves it.
        enableAutoPipelining: false,
        redisOptions: {
          password: topology.password,
          ...(role === 'commands' ? { maxRetriesPerRequest: 2, retryStrategy: redisClientOptions.retryStrategy } : {}),
        },
        // MOVED/ASK/TRYAGAIN/CLUSTERDOWN are retried against the refreshed slot map, up to this many times.
        maxRedirections: 32,
        retryDelayOnFailover: clusterRetryDelayMs,
        retryDelayOnClusterDown: clusterRetryDelayMs,
        retryDelayOnTryAgain: clusterRetryDelayMs,
        slotsRefreshInterval: 2_000,
      });
  }
}

/** For readiness: Redis answers PING (on a cluster, the node ioredis picks). */
export async function redisAnswers(redis: RedisClient): Promise<boolean> {
  return (await redis.ping().catch(() => '')) === 'PONG';
}

/** The clients that hold data: every primary of a cluster, or the one server. */
export function primaries(redis: RedisClient): Redis[] {
  return redis instanceof Cluster ? redis.nodes('master') : [redis];
}

/** Every key matching `pattern`, on every primary (SCAN on a cluster client sees one node only). */
export async function scanKeys(redis: RedisClient, pattern: string): Promise<string[]> {
  const found: string[] = [];
  for (const node of primaries(redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      found.push(...keys);
    } while (cursor !== '0');
  }
  return found;
}
