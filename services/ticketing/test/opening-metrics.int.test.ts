import { solveChallenge, type Challenge } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/sha';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWaitingRoom, type WaitingRoom } from '@quickdeal/dev/testing';

let room: WaitingRoom;

beforeAll(async () => {
  room = await startWaitingRoom();
});
afterAll(async () => {
  await room?.close();
});

/** A sample's value in a Prometheus exposition: the metric with these labels (in any order, others allowed). */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

describe('the opening’s metrics', () => {
  it('export the pre-queue, the draw’s state, the shoppers drawn and how long after the open the draw was done', async () => {
    const { dealId } = await room.createDeal({
      stock: 10,
      opensAt: new Date(Date.now() + 3_000).toISOString(),
      admission: { maxActiveShoppers: 2, checkoutWindow: '1m' },
      queue: { prequeue: '1m' },
    });
    for (let i = 0; i < 5; i++) expect((await room.takeTicket(dealId, `m${i}`)).body.status).toBe('PREQUEUED');
    const admission = () => room.metrics.admission.registry.metrics();
    const before = await admission();
    expect(sample(before, 'quickdeal_prequeued_shoppers', { deal: dealId })).toBe(5);
    expect(sample(before, 'quickdeal_prequeue_draw_state', { deal: dealId, state: 'scheduled' })).toBe(1);
    expect(sample(before, 'quickdeal_prequeue_draw_state', { deal: dealId, state: 'done' })).toBe(0);

    const after = await room.waitFor(
      admission,
      (t) => sample(t, 'quickdeal_prequeue_draw_state', { deal: dealId, state: 'done' }) === 1,
      30_000,
    );
    expect(sample(after, 'quickdeal_prequeue_draw_state', { deal: dealId, state: 'scheduled' })).toBe(0);
    const ticketing = await room.metrics.ticketing.registry.metrics();
    expect(sample(ticketing, 'quickdeal_prequeue_drawn_total', { deal: dealId })).toBe(5);
    expect(sample(ticketing, 'quickdeal_prequeue_draw_duration_seconds_count', { deal: dealId })).toBe(1);
    const seconds = sample(ticketing, 'quickdeal_prequeue_draw_duration_seconds_sum', { deal: dealId }) ?? -1;
    expect(seconds).toBeGreaterThanOrEqual(0);
    expect(seconds).toBeLessThan(30);
    // a deal without a pre-queue shows 0 pre-queued and no draw state
    const plain = await room.createDeal({ stock: 1 });
    const text = await admission();
    expect(sample(text, 'quickdeal_prequeued_shoppers', { deal: plain.dealId })).toBe(0);
    expect(sample(text, 'quickdeal_prequeue_draw_state', { deal: plain.dealId })).toBeUndefined();
  });

  it('count proof-of-work verifications by result', async () => {
    const { dealId } = await room.createDeal({ stock: 10, queue: { proofOfWork: { difficulty: 500 } } });
    const solved = async () => {
      const challenge = (await (await room.ticketing.request(`/api/v1/deals/${dealId}/challenge`)).json()) as Challenge;
      const solution = await solveChallenge({ challenge, deriveKey });
      return Buffer.from(JSON.stringify({ challenge, solution })).toString('base64');
    };
    expect((await room.takeTicket(dealId, 'p1')).status).toBe(428);
    const proof = await solved();
    expect((await room.takeTicket(dealId, 'p1', { headers: { 'X-Proof-Of-Work': proof } })).status).toBe(201);
    expect((await room.takeTicket(dealId, 'p2', { headers: { 'X-Proof-Of-Work': proof } })).status).toBe(409);
    expect((await room.takeTicket(dealId, 'p3', { headers: { 'X-Proof-Of-Work': 'nonsense' } })).status).toBe(400);
    const text = await room.metrics.ticketing.registry.metrics();
    const count = (result: string) => sample(text, 'quickdeal_proof_of_work_verifications_total', { deal: dealId, result });
    expect([count('missing'), count('verified'), count('replayed'), count('invalid')]).toEqual([1, 1, 1, 1]);
  });
});
