/**
 * A deal's identity against the real API server, Kafka, Redis and Postgres. A deal's id is its
 * name (topic, Redis keys, Postgres row), while QuickDeals are namespaced: a name clash waits in
 * NameConflict and is served by itself once the older deal is gone; a deal deleted and created
 * again starts afresh (its old orders kept aside); a deleted deal is no longer listed; and an
 * operator installation serves only the QuickDeals of its class.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { dealClassLabel, group, plural, version, type Operator } from '@quickdeal/operator';
import { eventually, startWaitingRoom, uniqueName, type WaitingRoom } from '@quickdeal/dev/testing';
import {
  conditionOf,
  createNamespace,
  createQuickDeal,
  deleteNamespace,
  deleteQuickDeals,
  eventsOf,
  isGone,
  isReady,
  quickDeal,
  readQuickDeal,
  setUpTestNamespace,
  startOperator,
  waitForDeal,
  type Clients,
} from '@quickdeal/dev/testing/kubernetes';

const cluster = inject('kubernetes');
const dealClass = uniqueName('class');
let api: Clients;
let namespace: string;
let otherNamespace: string;
let room: WaitingRoom;
let operator: Operator;
let classOperator: Operator;
const classOperatorIdentity = uniqueName('class-operator');

/** A QuickDeal labelled for the class operator. */
function classed(name: string, spec: Parameters<typeof quickDeal>[1] = {}) {
  const body = quickDeal(name, spec);
  Object.assign(body.metadata, { labels: { [dealClassLabel]: dealClass } });
  return body;
}

const remove = (ns: string, name: string) => api.custom.deleteNamespacedCustomObject({ group, version, namespace: ns, plural, name });
const waitGone = (ns: string, name: string) =>
  eventually(`${ns}/${name} to be finalized`, async () => ((await isGone(api, ns, name)) ? true : undefined), 15_000);

beforeAll(async () => {
  ({ api, namespace } = await setUpTestNamespace(cluster, 'qd-identity'));
  otherNamespace = await createNamespace(api, 'qd-identity-b');
  room = await startWaitingRoom({ backoffMs: 100 });
  // The default installation (no class) watches one namespace; the classed one watches them all.
  ({ operator } = await startOperator(cluster, room.registry, namespace));
  ({ operator: classOperator } = await startOperator(cluster, room.registry, namespace, {
    identity: classOperatorIdentity,
    controller: { resyncMs: 500, workers: 2, backoff: { baseDelayMs: 100, maxDelayMs: 2_000 }, dealClass },
  }));
});

afterAll(async () => {
  for (const ns of [namespace, otherNamespace]) if (ns) await deleteQuickDeals(api, ns);
  await operator?.stop();
  await classOperator?.stop();
  await room?.close();
  for (const ns of [namespace, otherNamespace]) if (ns) await deleteNamespace(api, ns);
});

async function buy(dealId: string, shopper: string): Promise<void> {
  const taken = await room.takeTicket(dealId, shopper);
  expect(taken.status, JSON.stringify(taken.body)).toBe(201);
  const ticket = taken.body.ticket as string;
  await room.waitFor(
    async () => (await room.status(dealId, shopper, ticket)).body.status as string,
    (status) => status === 'ACCESS_GRANTED',
  );
  expect((await room.pay(dealId, shopper, ticket)).status).toBe(201);
}

describe('a deal’s identity', () => {
  it('a deal deleted and created again starts afresh, and the deleted one is not listed', async () => {
    const name = uniqueName('again');
    await createQuickDeal(api, namespace, quickDeal(name, { stock: 3 }));
    await waitForDeal(api, namespace, name, 'Ready', isReady);
    await buy(name, 'buyer');
    await waitForDeal(api, namespace, name, 'one sold', (deal) => deal.status?.sold === 1);

    await remove(namespace, name);
    await waitGone(namespace, name);
    expect((await room.registry.list()).map((deal) => deal.dealId)).not.toContain(name);
    expect(await room.registry.status(name)).toBeUndefined();

    await createQuickDeal(api, namespace, quickDeal(name, { stock: 3 }));
    const fresh = await waitForDeal(api, namespace, name, 'Ready again', isReady);
    expect(fresh.status).toMatchObject({ sold: 0, remaining: 3 });
    expect((await room.registry.list()).find((deal) => deal.dealId === name)).toMatchObject({ sold: 0, stock: 3 });
    // The same shopper may buy in the new sale; the old order stays, moved aside with its deal.
    await buy(name, 'buyer');
    const orders = await room.db.selectFrom('orders').select(['deal_id', 'shopper_id']).where('deal_id', 'like', `${name}%`).execute();
    expect(orders).toHaveLength(2);
    expect(orders.map((order) => order.deal_id)).toEqual(
      expect.arrayContaining([name, expect.stringMatching(new RegExp(`^${name}~\\d+$`))]),
    );
  });

  it('a name clash waits in NameConflict and is served by itself once the older deal is gone', async () => {
    const name = uniqueName('clash');
    await createQuickDeal(api, namespace, classed(name, { stock: 4 }));
    await waitForDeal(api, namespace, name, 'Ready', isReady);
    // creationTimestamp has a one-second grain, and a tie goes to the namespace that sorts first (random
    // suffixes here): a second later, the first deal is the older one whatever the names.
    await sleep(1_100);
    await createQuickDeal(api, otherNamespace, classed(name, { stock: 9 }));
    const blocked = await waitForDeal(
      api,
      otherNamespace,
      name,
      'NameConflict',
      (deal) => conditionOf(deal, 'ConfigSynced')?.reason === 'NameConflict',
    );
    expect(conditionOf(blocked, 'ConfigSynced')?.message).toContain(`namespace ${namespace}`);

    await remove(namespace, name);
    await waitGone(namespace, name);
    // Nothing touches the younger deal: it is re-queued when the older one goes.
    const served = await waitForDeal(api, otherNamespace, name, 'served after the clash cleared', isReady, 10_000);
    expect(served.status).toMatchObject({ remaining: 9, sold: 0 });
  });

  it('an installation serves only the QuickDeals of its class, so none is served twice', async () => {
    const [mine, theirs] = [uniqueName('classed'), uniqueName('classless')];
    await createQuickDeal(api, namespace, classed(mine));
    await createQuickDeal(api, otherNamespace, quickDeal(theirs));
    await waitForDeal(api, namespace, mine, 'Ready', isReady);
    await sleep(1_500); // a few resyncs of both operators
    // The classed deal, in the namespace the default operator watches, was served by the classed operator alone.
    expect(new Set((await eventsOf(api, namespace, mine)).map((event) => event.reportingInstance))).toEqual(
      new Set([classOperatorIdentity]),
    );
    // The deal without a class, outside the default operator's namespace, is nobody's.
    const untouched = await readQuickDeal(api, otherNamespace, theirs);
    expect(untouched.status).toBeUndefined();
    expect(untouched.metadata.finalizers ?? []).toEqual([]);
  });
});
