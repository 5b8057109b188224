import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWaitingRoom, type WaitingRoom } from '@quickdeal/dev/testing';

let room: WaitingRoom;

beforeAll(async () => {
  room = await startWaitingRoom({ startAdmission: false });
});
afterAll(async () => {
  await room?.close();
});

async function queueShoppers(dealId: string, count: number, prefix: string) {
  for (let i = 0; i < count; i++) expect((await room.takeTicket(dealId, `${prefix}${i}`)).status).toBe(201);
}

describe('the inflow rate (spec.admission.maxAdmissionsPerMinute)', () => {
  it('lets shoppers in no faster than the rate even with every slot free, in queue order', async () => {
    // 600 a minute: one every 100 ms (a burst of one)
    const { dealId } = await room.createDeal({
      stock: 50,
      admission: { maxActiveShoppers: 50, checkoutWindow: '1m', maxAdmissionsPerMinute: 600 },
    });
    await queueShoppers(dealId, 8, 'r');
    await room.startAdmission();
    try {
      const admissions = await room.waitFor(
        () => room.store.admissions(dealId),
        (a) => a.length === 8,
      );
      expect(admissions.map((a) => a.queueNumber)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      const first = admissions[0]!.admittedAt;
      admissions.forEach((a, i) => expect(a.admittedAt - first).toBeGreaterThanOrEqual(i * 100));
      const blocks = await room.metrics.admission.registry.getSingleMetricAsString('quickdeal_admission_blocks_total');
      expect(blocks).toMatch(new RegExp(`deal="${dealId}",reason="rate"`));
    } finally {
      await room.stopAdmission();
    }
  });

  it('takes a new rate from the moment it is applied: a slow rate’s wait does not outlive it, and the order holds', async () => {
    const { dealId, spec } = await room.createDeal({
      stock: 20,
      admission: { maxActiveShoppers: 20, checkoutWindow: '1m', maxAdmissionsPerMinute: 1 },
    });
    await queueShoppers(dealId, 5, 'c');
    await room.startAdmission();
    try {
      await room.waitFor(
        () => room.store.admissions(dealId),
        (a) => a.length === 1,
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await room.store.admissionCount(dealId)).toBe(1);
      await room.registry.apply(dealId, { ...spec, admission: { ...spec.admission, maxAdmissionsPerMinute: 60_000 } });
      const admissions = await room.waitFor(
        () => room.store.admissions(dealId),
        (a) => a.length === 5,
        5_000,
      );
      expect(admissions.map((a) => a.shopperId)).toEqual(['c0', 'c1', 'c2', 'c3', 'c4']);
      // dropping the rate altogether lets the rest in as fast as slots allow
      await room.registry.apply(dealId, { ...spec, admission: { ...spec.admission, maxAdmissionsPerMinute: 1 } });
      await queueShoppers(dealId, 2, 'd');
      await room.waitFor(
        () => room.store.admissionCount(dealId),
        (n) => n === 6,
      );
      const { maxAdmissionsPerMinute: _dropped, ...unlimited } = spec.admission;
      await room.registry.apply(dealId, { ...spec, admission: unlimited });
      await room.waitFor(
        () => room.store.admissionCount(dealId),
        (n) => n === 7,
        3_000,
      );
    } finally {
      await room.stopAdmission();
    }
  });
});
