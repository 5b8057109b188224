import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeTicketMessage } from '@quickdeal/core';
import { metricValue, startWaitingRoom, type WaitingRoom } from '@quickdeal/dev/testing';

let room: WaitingRoom;

beforeAll(async () => {
  room = await startWaitingRoom({ backoffMs: 200 });
});
afterAll(async () => {
  await room?.close();
});

async function queueShoppers(dealId: string, count: number, prefix = 's') {
  const tickets = new Map<string, string>();
  for (let i = 0; i < count; i++) {
    const answer = await room.takeTicket(dealId, `${prefix}${i}`);
    expect(answer.status).toBe(201);
    tickets.set(`${prefix}${i}`, answer.body.ticket);
  }
  return tickets;
}

describe('admission', () => {
  it('admits strictly in queue order, never more than the cap, and lets the next one in when a checkout ends', async () => {
    const { dealId } = await room.createDeal({ stock: 10, admission: { maxActiveShoppers: 3, checkoutWindow: '1m' } });
    const tickets = await queueShoppers(dealId, 8);
    await room.waitFor(
      () => room.store.snapshot(dealId),
      (d) => d.active === 3,
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    let deal = await room.store.snapshot(dealId);
    expect(deal.active).toBe(3);
    expect(deal.served).toBe(3);
    expect((await room.status(dealId, 's0', tickets.get('s0')!)).body.status).toBe('ACCESS_GRANTED');
    expect((await room.status(dealId, 's3', tickets.get('s3')!)).body).toMatchObject({ status: 'ACCESS_DENIED', position: 1 });

    // the ticket at the head was not consumed: the group's committed offset stops before it
    const committed = await room.admin.fetchOffsets({ groupId: room.groupId, topics: [room.registry.topicFor(dealId)] });
    expect(committed[0]?.partitions[0]?.offset).toBe('3');

    expect((await room.cancel(dealId, 's1', tickets.get('s1')!)).status).toBe(204);
    deal = await room.waitFor(
      () => room.store.snapshot(dealId),
      (d) => d.served === 4,
    );
    expect(deal.active).toBe(3);
    const admitted = (await room.store.admissions(dealId)).map((a) => a.queueNumber);
    expect(admitted).toEqual([1, 2, 3, 4]);
    await room.waitFor(
      () => room.status(dealId, 's3', tickets.get('s3')!),
      (s) => s.body.status === 'ACCESS_GRANTED',
      5_000,
    );
  });

  it('holds the line when units run out while checkouts are open, and marks the rest sold out once all are sold', async () => {
    const { dealId } = await room.createDeal({ stock: 2, admission: { maxActiveShoppers: 10, checkoutWindow: '1m' } });
    const tickets = await queueShoppers(dealId, 5);
    await room.waitFor(
      () => room.store.snapshot(dealId),
      (d) => d.active === 2,
    );
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await room.store.snapshot(dealId)).served).toBe(2);
    expect((await room.status(dealId, 's2', tickets.get('s2')!)).body.status).toBe('ACCESS_DENIED');

    expect((await room.pay(dealId, 's0', tickets.get('s0')!)).status).toBe(201);
    expect((await room.pay(dealId, 's1', tickets.get('s1')!)).status).toBe(201);
    const deal = await room.waitFor(
      () => room.store.snapshot(dealId),
      (d) => d.served === 5,
    );
    expect(deal).toMatchObject({ sold: 2, active: 0, soldOutTickets: 3, admitted: 2 });
    for (const shopper of ['s2', 's3', 's4']) {
      await room.waitFor(
        () => room.status(dealId, shopper, tickets.get(shopper)!),
        (s) => s.body.status === 'ITEM_SOLD_OUT',
        5_000,
      );
    }
  });

  it('skips invalid and expired tickets for good, without holding the line', async () => {
    const { dealId } = await room.createDeal({ stock: 10, queue: { ticketTTL: '2s' } });
    await room.stopAdmission();
    const topic = room.registry.topicFor(dealId);
    const early = await queueShoppers(dealId, 2, 'early');
    // a message nobody was answered for, and garbage, straight into the log
    await room.producer.send({
      topic,
      acks: -1,
      messages: [{ value: JSON.stringify({ v: 1, sub: 'ghost', jti: 'never-issued', iat: 1, exp: 9_999_999_999 }) }, { value: 'not json' }],
    });
    await new Promise((resolve) => setTimeout(resolve, 2_100)); // the two early tickets expire while nobody reads
    const late = await queueShoppers(dealId, 2, 'late');
    await room.startAdmission();
    const deal = await room.waitFor(
      () => room.store.snapshot(dealId),
      (d) => d.served === 6,
    );
    expect(deal).toMatchObject({ admitted: 2, skipped: 4, active: 2 });
    expect((await room.store.admissions(dealId)).map((a) => a.shopperId)).toEqual(['late0', 'late1']);
    expect((await room.store.shopperTicket(dealId, 'early0'))?.state).toBe('skipped');
    // polls are answered from memory, which follows Redis within a refresh
    await room.waitFor(
      () => room.status(dealId, 'late1', late.get('late1')!),
      (s) => s.body.status === 'ACCESS_GRANTED',
      5_000,
    );
    expect(early.size).toBe(2);
  });

  it('admits a ticket written twice (a retried write) only at the queue number its shopper was given', async () => {
    const { dealId } = await room.createDeal({ stock: 10 });
    await room.stopAdmission();
    const topic = room.registry.topicFor(dealId);
    const jti = 'written-twice';
    expect((await room.store.reserveTicket(dealId, 'twice', jti)).outcome).toBe('reserved');
    const issuedAt = Math.floor(Date.now() / 1000);
    const value = encodeTicketMessage({ v: 1, sub: 'twice', jti, iat: issuedAt, exp: issuedAt + 600 });
    await room.producer.send({ topic, acks: -1, messages: [{ value }] });
    const [retried] = await room.producer.send({ topic, acks: -1, messages: [{ value }] });
    const queueNumber = Number(retried!.baseOffset) + 1;
    expect(queueNumber).toBe(2);
    expect(
      await room.store.finalizeTicket(
        dealId,
        'twice',
        { jti, queueNumber, token: 'ticket', expiresAtMs: (issuedAt + 600) * 1000 },
        600_000,
      ),
    ).toBe(true);
    await room.startAdmission();
    const deal = await room.waitFor(
      () => room.store.snapshot(dealId),
      (d) => d.served === 2,
    );
    expect(deal).toMatchObject({ admitted: 1, active: 1, skipped: 0 });
    expect((await room.store.admissions(dealId)).map((a) => [a.queueNumber, a.shopperId])).toEqual([[2, 'twice']]);
  });

  it('stays stopped when it is stopped while switching to a new deal’s topic', async () => {
    for (let round = 0; round < 8; round++) {
      const consumer = room.newAdmissionConsumer({ groupId: `${room.groupId}-race-${round}`, topicRefreshMs: 5 });
      await consumer.start();
      await room.admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic: room.registry.topicFor(`race-${round}`), numPartitions: 1, replicationFactor: 1 }],
      });
      await new Promise((resolve) => setTimeout(resolve, round * 3));
      await consumer.stop();
      await new Promise((resolve) => setTimeout(resolve, 300));
      const [group] = (await room.admin.describeGroups([`${room.groupId}-race-${round}`])).groups;
      expect(group?.members, `round ${round}`).toEqual([]);
    }
  });

  it('picks up a deal created while it runs within seconds', async () => {
    const started = Date.now();
    const { dealId } = await room.createDeal({ stock: 3 });
    const tickets = await queueShoppers(dealId, 1, 'newcomer');
    await room.waitFor(
      () => room.status(dealId, 'newcomer0', tickets.get('newcomer0')!),
      (s) => s.body.status === 'ACCESS_GRANTED',
      10_000,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(room.consumer?.subscribedTopics()).toContain(room.registry.topicFor(dealId));
  });

  it('waits while a deal is paused, keeping the order, and goes on when it is resumed', async () => {
    const created = await room.createDeal({ stock: 5, paused: true });
    const tickets = await queueShoppers(created.dealId, 3, 'p');
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect((await room.store.snapshot(created.dealId)).served).toBe(0);
    await room.registry.apply(created.dealId, { ...created.spec, paused: false });
    await room.waitFor(
      () => room.store.snapshot(created.dealId),
      (d) => d.served === 3,
    );
    expect((await room.store.admissions(created.dealId)).map((a) => a.queueNumber)).toEqual([1, 2, 3]);
    await room.waitFor(
      () => room.status(created.dealId, 'p2', tickets.get('p2')!),
      (s) => s.body.status === 'ACCESS_GRANTED',
      5_000,
    );
  });

  it('leaves a paused line unread until the deal changes, instead of reading its head again every back-off', async () => {
    const created = await room.createDeal({ stock: 5, paused: true });
    const tickets = await queueShoppers(created.dealId, 3, 'idle');
    const pausedBlocks = async () =>
      metricValue(await room.metrics.admission.registry.metrics(), 'quickdeal_admission_blocks_total', {
        deal: created.dealId,
        reason: 'paused',
      });
    await room.waitFor(pausedBlocks, (blocks) => blocks >= 1);
    const before = await pausedBlocks();
    // eight back-offs (200 ms): a line read again on each would count eight more blocks
    await new Promise((resolve) => setTimeout(resolve, 1_600));
    expect((await pausedBlocks()) - before).toBeLessThanOrEqual(1);

    const resumedAt = Date.now();
    await room.registry.apply(created.dealId, { ...created.spec, paused: false });
    await room.waitFor(
      () => room.status(created.dealId, 'idle2', tickets.get('idle2')!),
      (s) => s.body.status === 'ACCESS_GRANTED',
      5_000,
    );
    // woken by the deal's change, not by a timer
    expect(Date.now() - resumedAt).toBeLessThan(2_500);
  });

  it('fills many freed slots in a few batches', async () => {
    const { dealId } = await room.createDeal({ stock: 3_000, admission: { maxActiveShoppers: 1_000, checkoutWindow: '1m' }, paused: true });
    const topic = room.registry.topicFor(dealId);
    // queue 1,500 tickets through the real issue path, concurrently
    const batches = Array.from({ length: 15 }, (_, b) =>
      Promise.all(Array.from({ length: 100 }, (_, i) => room.takeTicket(dealId, `bulk${b * 100 + i}`))),
    );
    const answers = (await Promise.all(batches)).flat();
    expect(answers.every((a) => a.status === 201)).toBe(true);
    expect((await room.admin.fetchTopicOffsets(topic))[0]?.high).toBe('1500');
    const created = await room.registry.status(dealId);
    expect(created?.waiting).toBe(1500);
    await room.registry.apply(dealId, {
      product: { name: 'Bulk', price: 1, currency: 'KRW' },
      stock: 3_000,
      opensAt: new Date(Date.now() - 60_000).toISOString(),
      admission: { maxActiveShoppers: 1_000, checkoutWindow: '1m' },
      queue: { ticketTTL: '2h', mode: 'Always' },
      paused: false,
      deletionPolicy: 'Retain',
    });
    const deal = await room.waitFor(
      () => room.store.snapshot(dealId),
      (d) => d.active === 1_000,
      20_000,
    );
    expect(deal.served).toBe(1_000);
    const order = (await room.store.admissions(dealId)).map((a) => a.queueNumber);
    expect(order).toEqual(Array.from({ length: 1_000 }, (_, i) => i + 1));
  });

  it('exports waiting, active vs cap, stock, lag and admission counts per deal', async () => {
    const { dealId } = await room.createDeal({ stock: 4, admission: { maxActiveShoppers: 2, checkoutWindow: '1m' } });
    await queueShoppers(dealId, 5, 'm');
    await room.waitFor(
      () => room.store.snapshot(dealId),
      (d) => d.served === 2,
    );
    const metrics = room.metrics.admission;
    const text = await room.waitFor(
      () => metrics.registry.metrics(),
      // the first two may come in a batch of their own, then the block comes with the next batch
      (t) =>
        t.includes(`quickdeal_consumer_lag_messages{deal="${dealId}",service="admission"} 3`) &&
        t.includes(`quickdeal_admission_blocks_total{deal="${dealId}",reason="cap"`),
    );
    const value = (name: string, extra = '') => {
      const line = text.split('\n').find((l) => l.startsWith(`${name}{deal="${dealId}"${extra}`));
      return Number(line?.split(' ').pop());
    };
    expect(value('quickdeal_queue_waiting')).toBe(3);
    expect(value('quickdeal_active_shoppers')).toBe(2);
    expect(value('quickdeal_active_shoppers_cap')).toBe(2);
    expect(value('quickdeal_stock_remaining_units')).toBe(4);
    expect(value('quickdeal_admissions_total')).toBe(2);
    expect(value('quickdeal_admission_blocks_total', ',reason="cap"')).toBeGreaterThanOrEqual(1);
  });
});
