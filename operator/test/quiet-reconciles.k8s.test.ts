/**
 * Quiet reconciles against the real API server, Kafka, Redis and Postgres: a resync writes only
 * what changed. A deal at rest keeps its resourceVersion, its Postgres row (updated_at) and its
 * Redis settings, and publishes nothing; a finished deal is not even looked at again until its
 * spec changes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectRedis, type DealRegistry, type RedisClient } from '@quickdeal/core';
import type { Operator } from '@quickdeal/operator';
import { endpoints } from '@quickdeal/dev/profiles';
import { startWaitingRoom, uniqueName, type WaitingRoom } from '@quickdeal/dev/testing';
import {
  createQuickDeal,
  deleteNamespace,
  deleteQuickDeals,
  isReady,
  patchSpec,
  quickDeal,
  readQuickDeal,
  setUpTestNamespace,
  startOperator,
  waitForDeal,
  type Clients,
} from '@quickdeal/dev/testing/kubernetes';

const cluster = inject('kubernetes');
const resyncMs = 300;
let api: Clients;
let namespace: string;
let room: WaitingRoom;
let operator: Operator;
let subscriber: RedisClient;
/** Deal ids the operator's registry was asked to apply, in order. */
const applied: string[] = [];
/** Messages published on each deal's channel. */
const published = new Map<string, string[]>();

beforeAll(async () => {
  ({ api, namespace } = await setUpTestNamespace(cluster, 'qd-quiet'));
  room = await startWaitingRoom({ backoffMs: 100 });
  const registry = Object.assign(Object.create(room.registry) as DealRegistry, {
    apply: (...args: Parameters<DealRegistry['apply']>) => {
      applied.push(args[0]);
      return room.registry.apply(...args);
    },
  });
  subscriber = connectRedis(endpoints('test').redisUrl);
  await subscriber.psubscribe('qd:{quiet-*}:events');
  subscriber.on('pmessage', (_pattern: string, channel: string, message: string) => {
    const deal = /^qd:\{(.+)\}:events$/.exec(channel)?.[1] ?? '';
    published.set(deal, [...(published.get(deal) ?? []), message]);
  });
  ({ operator } = await startOperator(cluster, registry, namespace, {
    controller: { namespace, resyncMs, workers: 2, backoff: { baseDelayMs: 100, maxDelayMs: 2_000 } },
  }));
});

afterAll(async () => {
  if (namespace) await deleteQuickDeals(api, namespace);
  await operator?.stop();
  subscriber?.disconnect();
  await room?.close();
  if (namespace) await deleteNamespace(api, namespace);
});

/** What a resync could have written: the object, the Postgres row, the Redis settings. */
async function footprint(name: string) {
  const deal = await readQuickDeal(api, namespace, name);
  const row = await room.db.selectFrom('deals').select(['updated_at', 'stock']).where('id', '=', name).executeTakeFirstOrThrow();
  return {
    resourceVersion: deal.metadata.resourceVersion,
    updatedAt: row.updated_at.toISOString(),
    stock: row.stock,
    redisSettings: await room.redis.hgetall(`qd:{${name}}:cfg`),
  };
}

describe('quiet reconciles', () => {
  it('an open deal at rest is resynced without a single write or publish', async () => {
    const name = uniqueName('quiet-open');
    await createQuickDeal(api, namespace, quickDeal(name, { stock: 4 }));
    await waitForDeal(api, namespace, name, 'Ready', isReady);
    await sleep(resyncMs * 2);
    const before = await footprint(name);
    const [appliesBefore, messagesBefore] = [applied.filter((id) => id === name).length, published.get(name)?.length ?? 0];

    await sleep(resyncMs * 8);
    expect(applied.filter((id) => id === name).length - appliesBefore).toBeGreaterThanOrEqual(4); // it was looked at…
    expect(await footprint(name)).toEqual(before); // …and nothing was written
    expect((published.get(name)?.length ?? 0) - messagesBefore).toBe(0);

    // An edit is written at once, and only once.
    await patchSpec(api, namespace, name, { stock: 6 });
    await waitForDeal(api, namespace, name, 'stock 6', (deal) => deal.status?.remaining === 6);
    await sleep(resyncMs * 4);
    const edited = await footprint(name);
    expect(edited.stock).toBe(6);
    expect(edited.updatedAt).not.toBe(before.updatedAt);
    expect(published.get(name)?.filter((message) => message === 'config')).toHaveLength(2); // the create and the edit
  });

  it('a finished deal rests until its spec changes', async () => {
    const name = uniqueName('quiet-closed');
    const hour = 3_600_000;
    await createQuickDeal(
      api,
      namespace,
      quickDeal(name, { opensAt: new Date(Date.now() - 2 * hour).toISOString(), closesAt: new Date(Date.now() - hour).toISOString() }),
    );
    await waitForDeal(api, namespace, name, 'Closed and Ready', (deal) => isReady(deal) && deal.status?.phase === 'Closed');
    const before = await footprint(name);
    const appliesBefore = applied.filter((id) => id === name).length;

    await sleep(resyncMs * 8);
    expect(applied.filter((id) => id === name).length).toBe(appliesBefore);
    expect(await footprint(name)).toEqual(before);

    // Reopening it is an edit: the operator comes back.
    await patchSpec(api, namespace, name, { closesAt: new Date(Date.now() + hour).toISOString() });
    await waitForDeal(api, namespace, name, 'Open again', (deal) => deal.status?.phase === 'Open');
  });
});
