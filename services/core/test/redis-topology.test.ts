import { describe, expect, it } from 'vitest';
import { ConfigError, commonConfigSchema, parseConfig } from '../src/config.js';
import { redisTopology } from '../src/redis/connect.js';

const base = { PORT: '8081', DATABASE_URL: 'postgres://u:p@h/db', KAFKA_BROKERS: 'a:9092' };

describe('Redis topology from configuration', () => {
  it('is standalone with REDIS_URL', () => {
    const config = parseConfig(commonConfigSchema, { ...base, REDIS_URL: 'redis://127.0.0.1:6379' });
    expect(redisTopology(config)).toEqual({ kind: 'standalone', url: 'redis://127.0.0.1:6379' });
  });

  it('is a cluster with REDIS_CLUSTER_NODES, any node list as host:port', () => {
    const config = parseConfig(commonConfigSchema, {
      ...base,
      REDIS_CLUSTER_NODES: 'redis-0.redis:6379, 10.0.0.7:7000,[::1]:7001',
      REDIS_PASSWORD: 's3cret',
    });
    expect(redisTopology(config)).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'redis-0.redis', port: 6379 },
        { host: '10.0.0.7', port: 7000 },
        { host: '::1', port: 7001 },
      ],
      password: 's3cret',
    });
  });

  it('is Sentinel with REDIS_SENTINELS and REDIS_SENTINEL_NAME', () => {
    const config = parseConfig(commonConfigSchema, { ...base, REDIS_SENTINELS: 's1:26379,s2:26379', REDIS_SENTINEL_NAME: 'quickdeal' });
    expect(redisTopology(config)).toMatchObject({
      kind: 'sentinel',
      name: 'quickdeal',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
      ],
    });
  });

  it.each([
    [{}, /REDIS_URL: set one of REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS/],
    [{ REDIS_URL: 'redis://a:6379', REDIS_CLUSTER_NODES: 'a:6379' }, /REDIS_URL, REDIS_CLUSTER_NODES: set only one Redis topology/],
    [{ REDIS_SENTINELS: 's1:26379' }, /REDIS_SENTINEL_NAME: required with REDIS_SENTINELS/],
    [{ REDIS_URL: 'redis://a:6379', REDIS_SENTINEL_NAME: 'x' }, /REDIS_SENTINEL_NAME: only meaningful with REDIS_SENTINELS/],
    [{ REDIS_CLUSTER_NODES: 'a:6379,b' }, /REDIS_CLUSTER_NODES: 'b' is not host:port/],
    [{ REDIS_CLUSTER_NODES: 'a:70000' }, /REDIS_CLUSTER_NODES: 'a:70000' is not host:port/],
  ])('refuses %j with a message naming the variable', (redis, message) => {
    const attempt = () => parseConfig(commonConfigSchema, { ...base, ...redis });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(message);
  });
});
