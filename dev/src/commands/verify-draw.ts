import { readFileSync } from 'node:fs';
import { drawKey, verifyDraw } from '@quickdeal/core';
import type { Command } from './command.js';

const lines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);

/**
 * Recomputes a pre-queue draw from the revealed seed (GET /api/v1/deals/<deal>/draw): checks the
 * seed against the commitment published before the open, and either a published order against
 * the recomputed one, or one shopper's draw key and place among the given ids.
 */
export const verifyDrawCommand: Command = {
  summary: 'recompute a pre-queue draw from its revealed seed and check it against the commitment and an order',
  usage: 'verify-draw --seed HEX --commitment HEX --shoppers FILE [--order FILE] [--me SHOPPER]',
  options: {
    seed: { type: 'string' },
    commitment: { type: 'string' },
    shoppers: { type: 'string' },
    order: { type: 'string' },
    me: { type: 'string' },
  },
  async run({ values }) {
    const { seed, commitment, shoppers, order, me } = values as Record<string, string | undefined>;
    if (!seed || !/^[0-9a-f]{64}$/i.test(seed) || !commitment || (!shoppers && !me)) {
      console.error(
        `quickdeal verify-draw: give --seed (64 hex digits), --commitment and --shoppers (or --me)\nusage: quickdeal ${this.usage}`,
      );
      return 2;
    }
    const shopperIds = shoppers ? lines(shoppers) : [];
    const check = verifyDraw({ seed, commitment, shopperIds, publishedOrder: order ? lines(order) : undefined });
    console.log(`seed matches the commitment: ${check.seedMatchesCommitment ? 'yes' : 'NO'}`);
    if (me) {
      const place = check.order.indexOf(me);
      console.log(`${me}: draw key ${drawKey(seed, me)}${place >= 0 ? `, drawn ${place + 1} of ${check.order.length}` : ''}`);
    }
    if (order) {
      console.log(
        check.firstMismatch === undefined
          ? `the published order matches the recomputed one (${check.order.length} shoppers)`
          : `the published order differs from the recomputed one at place ${check.firstMismatch + 1}`,
      );
    } else if (!me) {
      for (const shopperId of check.order) console.log(shopperId);
    }
    return check.seedMatchesCommitment && check.firstMismatch === undefined ? 0 : 1;
  },
};
