/**
 * `npm run bench:quiet-deal [-- --shoppers N --every MS]`: what queueing only when busy saves a
 * shopper of a quiet deal. Two deals side by side in one waiting room (the test profile's real
 * Kafka, Redis and Postgres; the services in this process), one `Always`, one `WhenBusy`, with
 * free slots: shoppers arrive one every `--every` ms and each behaves as the page does (take a
 * ticket, then poll after `pollAfterMs` until ACCESS_GRANTED). Prints the time from the ticket
 * request to checkout access and the requests each shopper needed. Then what a proof-of-work
 * challenge (spec.queue.proofOfWork) costs: the server per ticket (making one challenge, checking
 * one solution) beside the shopper's device (solving it), at the deal's difficulty.
 */
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { solveChallenge } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/sha';
import { DealStore, connectRedis, type DealSnapshot } from '@quickdeal/core';
import { endpoints } from '@quickdeal/dev/profiles';
import { ensureInfra } from '@quickdeal/dev/stack';
import { startWaitingRoom, type WaitingRoom } from '@quickdeal/dev/testing';
import { ProofOfWork } from '@quickdeal/ticketing';

interface Journey {
  msToAccess: number;
  requests: number;
}

async function shopperJourney(room: WaitingRoom, dealId: string, shopperId: string): Promise<Journey> {
  const start = performance.now();
  const taken = await room.takeTicket(dealId, shopperId);
  if (taken.status !== 201) throw new Error(`${shopperId}: ticket answered ${taken.status}`);
  let view = taken.body;
  let requests = 1;
  while (view.status !== 'ACCESS_GRANTED') {
    if (view.status !== 'ACCESS_DENIED') throw new Error(`${shopperId}: ${view.status}`);
    await new Promise((resolve) => setTimeout(resolve, view.pollAfterMs as number));
    view = (await room.status(dealId, shopperId, taken.body.ticket)).body;
    requests++;
  }
  return { msToAccess: performance.now() - start, requests };
}

/**
 * Server and client cost of one proof of work at `difficulty`, averaged over `rounds` challenges:
 * ticketing's own ProofOfWork against the test profile's Redis, timed in a process doing nothing else.
 */
async function proofOfWorkCost(difficulty: number, rounds: number) {
  const redis = connectRedis(endpoints('test').redisUrl);
  const store = new DealStore(redis);
  const deal = {
    dealId: `bench-pow-${randomBytes(4).toString('hex')}`,
    proofOfWork: { difficulty, maxDifficulty: difficulty },
    lastQueueNumber: 0,
    served: 0,
  };
  const proofOfWork = new ProofOfWork(randomBytes(32).toString('hex'), store);
  let createMs = 0;
  let solveMs = 0;
  let spendMs = 0;
  try {
    // the first round warms the code and the connection up and is not counted
    for (let i = -1; i < rounds; i++) {
      if (i === 0) [createMs, solveMs, spendMs] = [0, 0, 0];
      let t = performance.now();
      const challenge = await proofOfWork.challenge(deal as DealSnapshot, Date.now());
      createMs += performance.now() - t;
      t = performance.now();
      const solution = await solveChallenge({ challenge, deriveKey });
      solveMs += performance.now() - t;
      if (!solution) throw new Error('a challenge went unsolved');
      const header = Buffer.from(JSON.stringify({ challenge, solution })).toString('base64');
      t = performance.now();
      await proofOfWork.spend(deal as DealSnapshot, header);
      spendMs += performance.now() - t;
    }
  } finally {
    redis.disconnect();
  }
  return { createMs: createMs / rounds, solveMs: solveMs / rounds, spendMs: spendMs / rounds };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { shoppers: { type: 'string', default: '40' }, every: { type: 'string', default: '100' } },
  });
  const shoppers = Number(values.shoppers);
  const everyMs = Number(values.every);
  await ensureInfra('test');
  for (const difficulty of [10_000, 100_000]) {
    const cost = await proofOfWorkCost(difficulty, 20);
    console.log(
      `proof of work, difficulty ${difficulty.toLocaleString('en-US')}: shopper solves in ${cost.solveMs.toFixed(0)} ms; server per ticket: make the challenge ${(cost.createMs * 1000).toFixed(0)} µs, check and spend it ${(cost.spendMs * 1000).toFixed(0)} µs (with its Redis write)`,
    );
  }
  const room = await startWaitingRoom();
  try {
    const results: Array<[string, Journey[]]> = [];
    for (const mode of ['Always', 'WhenBusy'] as const) {
      const { dealId } = await room.createDeal({
        stock: shoppers,
        admission: { maxActiveShoppers: shoppers, checkoutWindow: '5m' },
        queue: { mode },
      });
      const journeys: Array<Promise<Journey>> = [];
      for (let i = 0; i < shoppers; i++) {
        journeys.push(shopperJourney(room, dealId, `quiet-${mode}-${i}`));
        await new Promise((resolve) => setTimeout(resolve, everyMs));
      }
      results.push([mode, await Promise.all(journeys)]);
    }
    console.log(`quiet deal: ${shoppers} shoppers, one every ${everyMs} ms, free slots throughout`);
    console.log('mode      | to checkout access p50 / p95 / max (ms) | requests per shopper');
    for (const [mode, journeys] of results) {
      const ms = journeys.map((j) => j.msToAccess).sort((a, b) => a - b);
      const requests = journeys.reduce((total, j) => total + j.requests, 0) / journeys.length;
      const cells = [50, 95, 100].map((p) => Math.round(percentile(ms, p)));
      console.log(`${mode.padEnd(9)} | ${cells.join(' / ').padEnd(39)} | ${requests.toFixed(2)}`);
    }
  } finally {
    await room.close();
  }
}

await main();
