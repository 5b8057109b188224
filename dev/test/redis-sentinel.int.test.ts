/**
 * The Sentinel topology, for real: a primary, its replica and one Sentinel (all Debian's
 * redis-server, Sentinel as `redis-server <conf> --sentinel`), reached only through the Sentinel by
 * the services' own connectRedis. Runs the deal scripts and pub/sub, then kills the primary and
 * runs them again on the promoted replica.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DealStore, connectRedis, redisTopologyFromEnv, type RedisClient } from '@quickdeal/core';
import { installRedis } from '../src/servers/redis.js';
import { applyOpenDeal, eventually, freePort, recordTicket } from '../src/testing/index.js';

const waitFor = (what: string, check: () => boolean | Promise<boolean>, timeoutMs: number) =>
  eventually(what, async () => ((await check()) ? true : undefined), timeoutMs, 50);
/** A deal's events channel, as DESIGN.md lays out the keys. */
const eventsChannel = (dealId: string) => `qd:{${dealId}}:events`;

const dir = mkdtempSync(join(tmpdir(), 'quickdeal-sentinel-'));
const children: ChildProcess[] = [];
const clients: RedisClient[] = [];
let ports: { primary: number; replica: number; sentinel: number };

function run(command: string, args: string[]): ChildProcess {
  const child = spawn(command, args, { stdio: 'ignore' });
  children.push(child);
  return child;
}

const connect = (role: 'commands' | 'subscriber' = 'commands') => {
  const client = connectRedis(
    redisTopologyFromEnv({ REDIS_SENTINELS: `127.0.0.1:${ports.sentinel}`, REDIS_SENTINEL_NAME: 'quickdeal' }),
    role,
  );
  client.on('error', () => undefined);
  clients.push(client);
  return client;
};

let primary: ChildProcess;
let replica: ChildProcess;
let replicaProbe: RedisClient;

beforeAll(async () => {
  const server = await installRedis();
  ports = { primary: await freePort(), replica: await freePort(), sentinel: await freePort() };
  const common = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  primary = run(server, ['--port', String(ports.primary), '--dir', dir, ...common]);
  replica = run(server, ['--port', String(ports.replica), '--dir', dir, '--replicaof', '127.0.0.1', String(ports.primary), ...common]);
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(
    conf,
    [
      `port ${ports.sentinel}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor quickdeal 127.0.0.1 ${ports.primary} 1`,
      'sentinel down-after-milliseconds quickdeal 1000',
      'sentinel failover-timeout quickdeal 5000',
      '',
    ].join('\n'),
  );
  run(server, [conf, '--sentinel']);
  replicaProbe = connectRedis(`redis://127.0.0.1:${ports.replica}`);
  replicaProbe.on('error', () => undefined);
  clients.push(replicaProbe);
  await waitFor(
    'the replica to sync',
    async () => (await replicaProbe.info('replication').catch(() => '')).includes('master_link_status:up'),
    15_000,
  );
  // The Sentinel learns of replicas from the primary's INFO (every 10 s): one it has not seen yet
  // cannot be promoted once the primary is gone.
  const sentinel = connectRedis(`redis://127.0.0.1:${ports.sentinel}`);
  sentinel.on('error', () => undefined);
  clients.push(sentinel);
  await waitFor(
    'the Sentinel to know the replica',
    async () => {
      const replicas = (await sentinel.call('SENTINEL', 'REPLICAS', 'quickdeal').catch(() => [])) as string[][];
      return replicas.some((fields) => fields.includes(String(ports.replica)) && !fields.join(' ').includes('disconnected'));
    },
    30_000,
  );
});

afterAll(async () => {
  for (const client of clients) client.disconnect();
  for (const child of children) child.kill('SIGKILL');
});

async function applyAndRead(store: DealStore, dealId: string) {
  await applyOpenDeal(store, dealId);
  return store.snapshot(dealId);
}

describe('Redis through Sentinel (REDIS_SENTINELS + REDIS_SENTINEL_NAME)', () => {
  it('answers a ticket only once the replica holds its record (REDIS_WAIT_REPLICAS), and counts one the replica could not confirm', async () => {
    const shortfalls: string[] = [];
    const store = new DealStore(connect(), {
      replicaWait: { replicas: 1, timeoutMs: 500, onShortfall: (write) => shortfalls.push(write) },
    });
    await applyOpenDeal(store, 'sentinel-wait');
    const take = (shopperId: string) => recordTicket(store, 'sentinel-wait', shopperId);

    expect(await take('confirmed')).toBe(true);
    // no polling: the replica had the record when the answer came back
    expect(await replicaProbe.hget('qd:{sentinel-wait}:ticket:confirmed', 'state')).toBe('waiting');
    expect(shortfalls).toEqual([]);

    replica.kill('SIGSTOP');
    try {
      expect(await take('unconfirmed')).toBe(true); // answered all the same, after the wait
      expect(shortfalls).toEqual(['ticket']);
    } finally {
      replica.kill('SIGCONT');
    }
  });

  it('runs the deal scripts and delivers deal events, then does again after the primary dies and its replica is promoted', async () => {
    const store = new DealStore(connect());
    const subscriber = connect('subscriber');
    const events: string[] = [];
    subscriber.on('pmessage', (_pattern: string, channel: string) => events.push(channel));
    await subscriber.psubscribe('qd:{*}:events');

    expect(await applyAndRead(store, 'sentinel-before')).toMatchObject({ exists: true, stock: 5, available: 5 });
    await store.redis.publish(eventsChannel('sentinel-before'), 'changed');
    await waitFor('the event before the failover', () => events.includes(eventsChannel('sentinel-before')), 5_000);

    // Replication is asynchronous: only what a replica acknowledged (WAIT) is sure to survive the primary.
    expect(await store.redis.call('WAIT', 1, 5_000)).toBe(1);
    primary.kill('SIGKILL');
    // the Sentinel promotes the replica (down after 1 s, then the election); the same clients carry on
    await waitFor(
      'the scripts on the promoted replica',
      async () => (await applyAndRead(store, 'sentinel-after').catch(() => undefined))?.exists === true,
      30_000,
    );
    expect((await store.snapshot('sentinel-before')).stock).toBe(5); // acknowledged by the replica before the primary died
    await waitFor(
      'the event after the failover',
      async () => {
        await store.redis.publish(eventsChannel('sentinel-after'), 'changed');
        return events.includes(eventsChannel('sentinel-after'));
      },
      20_000,
    );
  }, 60_000);
});
