/**
 * The QuickDeal controller against the real API server, Kafka, Redis and Postgres: the operator
 * (in this process, watching one namespace) serves QuickDeals to an in-process waiting room
 * (ticketing and payment through their HTTP apps, an admission consumer) that shares its topic prefix.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Operator } from '@quickdeal/operator';
import { quickDealFinalizer } from '@quickdeal/operator';
import { eventually, startWaitingRoom, uniqueName, type WaitingRoom } from '@quickdeal/dev/testing';
import {
  conditionOf,
  createQuickDeal,
  deleteNamespace,
  deleteQuickDeals,
  eventsOf,
  isGone,
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
let api: Clients;
let namespace: string;
let room: WaitingRoom;
let operator: Operator;

beforeAll(async () => {
  ({ api, namespace } = await setUpTestNamespace(cluster, 'qd-controller'));
  room = await startWaitingRoom({ backoffMs: 100 });
  ({ operator } = await startOperator(cluster, room.registry, namespace));
});

afterAll(async () => {
  await deleteQuickDeals(api, namespace); // while the operator runs, so its finalizer cleans Redis up
  await operator?.stop();
  await room?.close();
  if (namespace) await deleteNamespace(api, namespace);
});

/** Takes a ticket and polls until the admission consumer has decided about it. */
async function ticketFor(dealId: string, shopper: string) {
  const taken = await room.takeTicket(dealId, shopper);
  expect(taken.status, JSON.stringify(taken.body)).toBe(201);
  return taken.body.ticket as string;
}

const pollStatus = async (dealId: string, shopper: string, ticket: string) =>
  (await room.status(dealId, shopper, ticket)).body.status as string;

describe('the QuickDeal controller', () => {
  it('creates the topic for a new QuickDeal and opens the deal through the ticketing API', async () => {
    const name = uniqueName('open');
    const created = await createQuickDeal(api, namespace, quickDeal(name, { stock: 5 }));
    const deal = await waitForDeal(api, namespace, name, 'Ready', isReady);

    expect(deal.metadata.finalizers).toContain(quickDealFinalizer);
    // The operator's writes (finalizer, status) are its own in managedFields, not the HTTP client's (`node-fetch`).
    const managersOf = (field: string) =>
      (deal.metadata.managedFields ?? []).filter((entry) => JSON.stringify(entry.fieldsV1).includes(field)).map((entry) => entry.manager);
    expect(managersOf('"f:finalizers"')).toEqual(['quickdeal-operator']);
    expect(managersOf('"f:status"')).toEqual(['quickdeal-operator']);
    expect(deal.status).toMatchObject({
      phase: 'Open',
      topic: `${room.topicPrefix}${name}`,
      sold: 0,
      remaining: 5,
      waiting: 0,
      active: 0,
      observedGeneration: 1,
    });
    expect(deal.status?.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Ready', 'True', 'DealServing'],
      ['TopicReady', 'True', 'TopicExists'],
      ['ConfigSynced', 'True', 'Applied'],
      ['ConsumersScaled', 'Unknown', 'ScalingDisabled'],
    ]);
    expect(await room.admin.listTopics()).toContain(`${room.topicPrefix}${name}`);
    const offsets = await room.admin.fetchTopicOffsets(`${room.topicPrefix}${name}`);
    expect(offsets).toHaveLength(1); // one partition: strict order

    const ticket = await ticketFor(name, 'first-shopper');
    await room.waitFor(
      () => pollStatus(name, 'first-shopper', ticket),
      (status) => status === 'ACCESS_GRANTED',
    );

    // what it recorded, owned by the QuickDeal so the garbage collector takes them with it
    const events = await eventsOf(api, namespace, name);
    expect(events.map((event) => event.reason)).toEqual(expect.arrayContaining(['TopicCreated', 'PhaseChanged']));
    for (const event of events)
      expect(event.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'QuickDeal', name, uid: created.metadata.uid })]);
  });

  it('changes what shoppers get when stock or cap is edited, and says so when stock would drop below what was sold', async () => {
    const name = uniqueName('edit');
    await createQuickDeal(api, namespace, quickDeal(name, { stock: 1, admission: { maxActiveShoppers: 1 } }));
    await waitForDeal(api, namespace, name, 'Ready', isReady);
    const alice = await ticketFor(name, 'alice');
    await room.waitFor(
      () => pollStatus(name, 'alice', alice),
      (status) => status === 'ACCESS_GRANTED',
    );
    const bob = await ticketFor(name, 'bob');
    await sleep(500);
    expect(await pollStatus(name, 'bob', bob)).toBe('ACCESS_DENIED');

    // a larger cap alone lets nobody in: the one unit is held by alice
    await patchSpec(api, namespace, name, { admission: { maxActiveShoppers: 5 } });
    await waitForDeal(api, namespace, name, 'the new cap applied', (d) => isReady(d) && d.status?.observedGeneration === 2);
    await sleep(500);
    expect(await pollStatus(name, 'bob', bob)).toBe('ACCESS_DENIED');

    // one more unit: bob is admitted
    await patchSpec(api, namespace, name, { stock: 2 });
    await waitForDeal(
      api,
      namespace,
      name,
      'the new stock applied',
      (d) => isReady(d) && d.status?.observedGeneration === 3 && d.status.remaining === 2,
    );
    await room.waitFor(
      () => pollStatus(name, 'bob', bob),
      (status) => status === 'ACCESS_GRANTED',
    );

    // alice pays; the stock cannot drop below the one sold
    expect((await room.pay(name, 'alice', alice)).status).toBe(201);
    await patchSpec(api, namespace, name, { stock: 0 });
    const clamped = await waitForDeal(
      api,
      namespace,
      name,
      'the stock clamped',
      (d) => conditionOf(d, 'ConfigSynced')?.reason === 'StockBelowSold',
    );
    expect(conditionOf(clamped, 'ConfigSynced')).toMatchObject({
      status: 'False',
      message: 'spec.stock 0 is below the 1 units already sold; the deal keeps stock 1',
    });
    expect(conditionOf(clamped, 'Ready')).toMatchObject({ status: 'False', reason: 'StockBelowSold' });
    expect(clamped.status).toMatchObject({ sold: 1, remaining: 0, phase: 'SoldOut', observedGeneration: 4 });
    expect((await eventsOf(api, namespace, name)).filter((e) => e.reason === 'StockBelowSold').map((e) => e.type)).toEqual(['Warning']);
    expect(await room.db.selectFrom('deals').select(['stock', 'sold']).where('id', '=', name).executeTakeFirstOrThrow()).toEqual({
      stock: 1,
      sold: 1,
    });
  });

  it('follows a small sale in its status: Scheduled → Open → SoldOut, with the counts', async () => {
    const name = uniqueName('sale');
    const opensAt = new Date(Date.now() + 4_000);
    await createQuickDeal(
      api,
      namespace,
      quickDeal(name, { stock: 2, opensAt: opensAt.toISOString(), admission: { maxActiveShoppers: 10 } }),
    );
    const scheduled = await waitForDeal(api, namespace, name, 'Scheduled', (d) => isReady(d) && d.status?.phase === 'Scheduled');
    expect(scheduled.status).toMatchObject({ sold: 0, remaining: 2, waiting: 0, active: 0 });
    expect((await room.takeTicket(name, 'early-bird')).body.error?.code).toBe('DEAL_NOT_OPEN');

    // the operator comes back at opensAt by itself
    const open = await waitForDeal(api, namespace, name, 'Open', (d) => d.status?.phase === 'Open', 10_000);
    expect(Date.now()).toBeGreaterThanOrEqual(opensAt.getTime());
    expect(open.status?.remaining).toBe(2);

    const tickets = new Map<string, string>();
    for (const shopper of ['s1', 's2', 's3']) tickets.set(shopper, await ticketFor(name, shopper));
    for (const shopper of ['s1', 's2'])
      await room.waitFor(
        () => pollStatus(name, shopper, tickets.get(shopper)!),
        (status) => status === 'ACCESS_GRANTED',
      );
    const selling = await waitForDeal(
      api,
      namespace,
      name,
      'two in checkout, one waiting',
      (d) => d.status?.active === 2 && d.status.waiting === 1,
    );
    expect(selling.status).toMatchObject({ phase: 'Open', sold: 0, remaining: 2 });

    for (const shopper of ['s1', 's2']) expect((await room.pay(name, shopper, tickets.get(shopper)!)).status).toBe(201);
    const soldOut = await waitForDeal(api, namespace, name, 'SoldOut', (d) => d.status?.phase === 'SoldOut' && d.status.waiting === 0);
    expect(soldOut.status).toMatchObject({ sold: 2, remaining: 0, active: 0, waiting: 0 });
    expect(await pollStatus(name, 's3', tickets.get('s3')!)).toBe('ITEM_SOLD_OUT');

    const phases = (await eventsOf(api, namespace, name)).filter((e) => e.reason === 'PhaseChanged').map((e) => e.message);
    expect(phases).toEqual(expect.arrayContaining(['Deal is Scheduled', 'Scheduled → Open', 'Open → SoldOut']));
  });

  it('runs the finalizer on delete: admissions stop, Redis keys go, the topic goes only with deletionPolicy Delete, orders stay', async () => {
    const [dropped, kept] = [uniqueName('gone'), uniqueName('kept')];
    await createQuickDeal(api, namespace, quickDeal(dropped, { stock: 3, deletionPolicy: 'Delete' }));
    await createQuickDeal(api, namespace, quickDeal(kept, { stock: 3 }));
    for (const name of [dropped, kept]) await waitForDeal(api, namespace, name, 'Ready', isReady);
    const ticket = await ticketFor(dropped, 'buyer');
    await room.waitFor(
      () => pollStatus(dropped, 'buyer', ticket),
      (status) => status === 'ACCESS_GRANTED',
    );
    expect((await room.pay(dropped, 'buyer', ticket)).status).toBe(201);
    await ticketFor(kept, 'waiter');

    for (const name of [dropped, kept])
      await api.custom.deleteNamespacedCustomObject({ group: 'quickdeal.io', version: 'v1alpha1', namespace, plural: 'quickdeals', name });
    for (const name of [dropped, kept])
      await eventually(`${name} to be finalized and gone`, async () => ((await isGone(api, namespace, name)) ? true : undefined), 15_000);

    for (const name of [dropped, kept]) {
      expect((await room.store.snapshot(name)).exists, `Redis keys of ${name}`).toBe(false);
      expect(await room.store.dealIds()).not.toContain(name);
    }
    const topics = await room.admin.listTopics();
    expect(topics).not.toContain(`${room.topicPrefix}${dropped}`);
    expect(topics).toContain(`${room.topicPrefix}${kept}`);
    const orders = await room.db.selectFrom('orders').select(['shopper_id', 'status']).where('deal_id', '=', dropped).execute();
    expect(orders).toEqual([{ shopper_id: 'buyer', status: 'PAID' }]);
    expect(await room.db.selectFrom('deals').select('sold').where('id', '=', dropped).executeTakeFirst()).toEqual({ sold: 1 });
    // a shopper can no longer join the deleted deal's line
    await room.waitFor(
      () => room.takeTicket(dropped, 'latecomer'),
      (answer) => answer.status === 404,
      5_000,
    );
  });

  it('ignores its own status writes and keeps reconciling idempotently', async () => {
    const name = uniqueName('steady');
    await createQuickDeal(api, namespace, quickDeal(name));
    const ready = await waitForDeal(api, namespace, name, 'Ready', isReady);
    await sleep(1_500); // three resyncs
    const later = await readQuickDeal(api, namespace, name);
    expect(later.status?.conditions).toEqual(ready.status?.conditions);
    expect(later.metadata.generation).toBe(1);
  });
});
