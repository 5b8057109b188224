import { solveChallenge, type Challenge } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/sha';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DealSnapshot } from '@quickdeal/core';
import { startWaitingRoom, type WaitingRoom } from '@quickdeal/dev/testing';
import { ProofOfWork } from '../src/proof-of-work.js';

let room: WaitingRoom;

beforeAll(async () => {
  room = await startWaitingRoom({ startAdmission: false });
});
afterAll(async () => {
  await room?.close();
});

const powDeal = (own = room) => own.createDeal({ stock: 10, queue: { proofOfWork: { difficulty: 2_000 } } });

async function solved(own: WaitingRoom, dealId: string): Promise<string> {
  const answer = await own.ticketing.request(`/api/v1/deals/${dealId}/challenge`);
  expect(answer.status).toBe(200);
  const challenge = (await answer.json()) as Challenge;
  const solution = await solveChallenge({ challenge, deriveKey });
  expect(solution).not.toBeNull();
  return Buffer.from(JSON.stringify({ challenge, solution })).toString('base64');
}

const withProof = (proof: string) => ({ headers: { 'X-Proof-Of-Work': proof } });
const queued = async (dealId: string) => Number((await room.admin.fetchTopicOffsets(room.registry.topicFor(dealId)))[0]?.high);

describe('a proof-of-work challenge on ticket requests (spec.queue.proofOfWork)', () => {
  it('takes a ticket only with a solved challenge of this deal, and each challenge only once', async () => {
    const { dealId } = await powDeal();
    const missing = await room.takeTicket(dealId, 'pow-1');
    expect(missing.status).toBe(428);
    expect(missing.body.error.code).toBe('PROOF_OF_WORK_REQUIRED');

    const proof = await solved(room, dealId);
    const taken = await room.takeTicket(dealId, 'pow-1', withProof(proof));
    expect(taken.status).toBe(201);
    const replayed = await room.takeTicket(dealId, 'pow-2', withProof(proof));
    expect(replayed.status).toBe(409);
    expect(replayed.body.error.code).toBe('PROOF_OF_WORK_REPLAYED');

    const other = await powDeal();
    const foreign = await room.takeTicket(dealId, 'pow-3', withProof(await solved(room, other.dealId)));
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.code).toBe('PROOF_OF_WORK_FOREIGN');

    const payload = JSON.parse(Buffer.from(await solved(room, dealId), 'base64').toString());
    payload.solution.counter += 1;
    payload.solution.derivedKey = '00'.repeat(32);
    const tampered = await room.takeTicket(dealId, 'pow-4', withProof(Buffer.from(JSON.stringify(payload)).toString('base64')));
    expect(tampered.body.error.code).toBe('PROOF_OF_WORK_INVALID');
    expect((await room.takeTicket(dealId, 'pow-5', withProof('not base64 json'))).body.error.code).toBe('PROOF_OF_WORK_INVALID');

    // only the one good request reached the line
    expect(await queued(dealId)).toBe(1);
    expect((await room.ticketing.request(`/api/v1/deals/${(await room.createDeal({ stock: 1 })).dealId}/challenge`)).status).toBe(404);
  });

  it('refuses a challenge that expired', async () => {
    const past = await startWaitingRoom({ startAdmission: false, clock: { now: () => Date.now() - 10 * 60_000 } });
    try {
      const { dealId } = await powDeal(past);
      const late = await past.takeTicket(dealId, 'late', withProof(await solved(past, dealId)));
      expect(late.body.error.code).toBe('PROOF_OF_WORK_EXPIRED');
    } finally {
      await past.close();
    }
  });

  it('raises the difficulty with the line, up to its maximum', () => {
    const deal = { proofOfWork: { difficulty: 1_000, maxDifficulty: 5_000 }, lastQueueNumber: 0, served: 0 } as unknown as DealSnapshot;
    expect(ProofOfWork.difficultyFor(deal)).toBe(1_000);
    expect(ProofOfWork.difficultyFor({ ...deal, lastQueueNumber: 2_000 })).toBe(3_000);
    expect(ProofOfWork.difficultyFor({ ...deal, lastQueueNumber: 100_000 })).toBe(5_000);
    expect(ProofOfWork.difficultyFor({ ...deal, proofOfWork: null })).toBe(0);
  });
});
