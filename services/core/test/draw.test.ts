import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { drawKey, drawOrder, newDrawSeed, seedCommitment, verifyDraw } from '../src/draw.js';

const shoppers = Array.from({ length: 500 }, (_, i) => `shopper-${i}`);

describe('the pre-queue draw', () => {
  it('orders shoppers by HMAC-SHA256(seed, shopper id), whatever order they joined in', () => {
    const seed = newDrawSeed();
    const order = drawOrder(seed, shoppers);
    expect([...order].sort()).toEqual([...shoppers].sort());
    expect(drawOrder(seed, [...shoppers].reverse())).toEqual(order);
    const keys = order.map((id) => createHmac('sha256', Buffer.from(seed, 'hex')).update(id).digest('hex'));
    expect(keys).toEqual([...keys].sort());
    expect(drawKey(seed, order[0]!)).toBe(keys[0]);
    // another seed, another order: nobody's place is fixed in advance
    expect(drawOrder(newDrawSeed(), shoppers)).not.toEqual(order);
  });

  it('commits to the seed with SHA-256 and lets anyone check both the seed and a published order', () => {
    const seed = newDrawSeed();
    const commitment = seedCommitment(seed);
    expect(commitment).toBe(createHash('sha256').update(Buffer.from(seed, 'hex')).digest('hex'));
    const published = drawOrder(seed, shoppers);
    expect(verifyDraw({ seed, commitment, shopperIds: shoppers, publishedOrder: published })).toMatchObject({
      seedMatchesCommitment: true,
      firstMismatch: undefined,
    });
    const tampered = [...published];
    [tampered[3], tampered[7]] = [tampered[7]!, tampered[3]!];
    expect(verifyDraw({ seed, commitment, shopperIds: shoppers, publishedOrder: tampered }).firstMismatch).toBe(3);
    expect(verifyDraw({ seed, commitment, shopperIds: shoppers, publishedOrder: published.slice(1) }).firstMismatch).toBe(0);
    expect(verifyDraw({ seed: newDrawSeed(), commitment, shopperIds: shoppers }).seedMatchesCommitment).toBe(false);
    expect(verifyDraw({ seed, commitment: 'not-hex', shopperIds: shoppers }).seedMatchesCommitment).toBe(false);
  });
});
