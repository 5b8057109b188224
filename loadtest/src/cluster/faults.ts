/**
 * Faults on the `cluster` profile's own servers, and how long a fault stalls the sale: shared by
 * the cluster tests (test/cluster.cluster.test.ts) and the `cluster-faults` load-test scenario.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster } from 'ioredis';
import type { Kafka } from 'kafkajs';
import type { DealStore } from '@quickdeal/core';
import { profileNodes, type ProfileName } from '@quickdeal/dev/profiles';
import { startServices } from '@quickdeal/dev/services';
import { ensureInfra, listServers } from '@quickdeal/dev/stack';

export async function pidOf(profile: ProfileName, name: string): Promise<number> {
  const server = (await listServers(profile)).find((candidate) => candidate.name === name && candidate.running);
  if (!server) throw new Error(`${name} is not running in the ${profile} profile`);
  return server.pid;
}

/** A crash, not a shutdown: nothing is flushed, nothing said goodbye. */
export async function kill(profile: ProfileName, name: string): Promise<void> {
  process.kill(await pidOf(profile, name), 'SIGKILL');
}

/** Brings every server and service of the profile back (a killed Redis primary returns as a replica). */
export async function restore(profile: ProfileName): Promise<void> {
  await ensureInfra(profile);
  await startServices(profile);
}

/** The server name (`kafka-<id>`) of the broker leading a single-partition topic. */
export async function partitionLeader(kafka: Kafka, topic: string): Promise<string> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [meta] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
    return `kafka-${meta?.partitions[0]?.leader}`;
  } finally {
    await admin.disconnect();
  }
}

/** The server name (`redis-<n>`) of the Redis Cluster primary that holds the deal's slot, and the slot. */
export async function slotPrimary(redis: Cluster, profile: ProfileName, dealId: string): Promise<{ name: string; slot: number }> {
  const slot = Number(await redis.cluster('KEYSLOT', `qd:{${dealId}}:cfg`));
  const ranges = await redis.cluster('SLOTS');
  const primaryPort = ranges.find(([from, to]) => slot >= from && slot <= to)?.[2]?.[1];
  const index = profileNodes(profile).redis.findIndex((node) => node.port === primaryPort);
  if (index < 0) throw new Error(`no primary of slot ${slot} among the ${profile} profile's Redis nodes`);
  return { name: `redis-${index + 1}`, slot };
}

/** Reads one of the deal's counters from Redis (undefined while Redis does not answer). */
export function dealCounter(store: DealStore, dealId: string, field: 'issued' | 'admitted'): () => Promise<number | undefined> {
  return async () => (await store.snapshot(dealId).catch(() => undefined))?.[field];
}

/** Waits until the deal has issued `count` tickets. */
export async function whenIssued(store: DealStore, dealId: string, count: number): Promise<void> {
  const issued = dealCounter(store, dealId, 'issued');
  while (((await issued()) ?? 0) < count) await sleep(50);
}

/**
 * The longest time a counter stood still after a fault at `from` (ms), sampled every 50 ms: until it
 * has not moved for `quietMs` (the shoppers stopped coming, or it is stuck for good; that last
 * still-stand is not counted), or until `observeMs` after the fault (a still-stand running then is
 * counted up to there). Infinity when it never moved.
 */
export async function stallOf(
  read: () => Promise<number | undefined>,
  from: number,
  options: { quietMs?: number; observeMs?: number } = {},
): Promise<number> {
  const { quietMs = 20_000, observeMs = Infinity } = options;
  let last = (await read()) ?? 0;
  let movedAt = from;
  let longest = 0;
  while (Date.now() - movedAt < quietMs && Date.now() - from < observeMs) {
    await sleep(50);
    const now = await read();
    if (now !== undefined && now > last) {
      longest = Math.max(longest, Date.now() - movedAt);
      movedAt = Date.now();
      last = now;
    }
  }
  if (movedAt === from) return Infinity;
  return Date.now() - from >= observeMs ? Math.max(longest, Date.now() - movedAt) : longest;
}
