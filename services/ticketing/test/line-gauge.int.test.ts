/**
 * Ticketing exports each deal's line, so the consumers can be scaled from zero: with no admission
 * consumer running, the waiting tickets show in ticketing's /metrics, and they go as a consumer
 * works them off.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, metricValue, startWaitingRoom, type WaitingRoom } from '@quickdeal/dev/testing';

let room: WaitingRoom;

beforeAll(async () => {
  room = await startWaitingRoom({ startAdmission: false });
});
afterAll(async () => {
  await room?.close();
});

const exported = async () => (await room.ticketing.request('/metrics')).text();
/** The gauge's line for a deal (the registry adds `service="ticketing"`), present even at 0. */
const line = (deal: string, value: number) => new RegExp(`^quickdeal_queue_waiting\\{deal="${deal}"[^}]*\\} ${value}$`, 'm');

describe('the line in ticketing’s metrics', () => {
  it('counts the tickets no consumer has processed, per deal, with no admission running', async () => {
    const [{ dealId: busy }, { dealId: quiet }] = [await room.createDeal({ stock: 10 }), await room.createDeal({ stock: 10 })];
    for (const shopper of ['a', 'b', 'c']) expect((await room.takeTicket(busy, shopper)).status).toBe(201);

    const text = await exported();
    expect(text).toMatch(line(busy, 3));
    expect(text).toMatch(line(quiet, 0));

    await room.startAdmission(); // everyone fits under the cap: the line empties
    await eventually('the line to empty', async () =>
      metricValue(await exported(), 'quickdeal_queue_waiting', { deal: busy }) === 0 ? true : undefined,
    );
    expect(await exported()).toMatch(line(busy, 0));
  });
});
