import { describe, expect, it } from 'vitest';
import { dealPhase } from '../src/deal-phase.js';
import { dealIdSchema, describeIssues, quickDealSpecSchema, settingsFromSpec } from '../src/deal-spec.js';
import { dealForTopic, topicForDeal } from '../src/topics.js';

const valid = {
  product: { name: 'iPhone 17 Pro 256GB', price: 1_550_000, currency: 'KRW' },
  stock: 500,
  opensAt: '2026-12-01T10:00:00+09:00',
  closesAt: '2026-12-01T12:00:00+09:00',
};

describe('the QuickDeal spec', () => {
  it('fills the defaults of DESIGN.md: cap 1,000, a 20 minute window, 2 hour tickets, not paused, topic retained', () => {
    const spec = quickDealSpecSchema.parse(valid);
    expect(spec.admission).toEqual({ maxActiveShoppers: 1000, checkoutWindow: '20m' });
    expect(spec.queue).toEqual({ ticketTTL: '2h', mode: 'Always' });
    expect(spec.paused).toBe(false);
    expect(spec.deletionPolicy).toBe('Retain');
    expect(settingsFromSpec('iphone-17-pro', spec)).toMatchObject({
      id: 'iphone-17-pro',
      stock: 500,
      cap: 1000,
      windowMs: 1_200_000,
      ticketTtlMs: 7_200_000,
      opensAt: Date.parse('2026-12-01T01:00:00Z'),
      closesAt: Date.parse('2026-12-01T03:00:00Z'),
      queueMode: 'Always',
      maxAdmissionsPerMinute: null,
      prequeueMs: 0,
    });
  });

  it('reads the opening and inflow fields: a queue mode, a pre-queue and an inflow rate', () => {
    const spec = quickDealSpecSchema.parse({
      ...valid,
      admission: { maxAdmissionsPerMinute: 600 },
      queue: { mode: 'WhenBusy', prequeue: '30m' },
    });
    expect(settingsFromSpec('d', spec)).toMatchObject({ queueMode: 'WhenBusy', maxAdmissionsPerMinute: 600, prequeueMs: 1_800_000 });
  });

  it.each([
    [{ stock: -1 }, 'stock'],
    [{ stock: 1.5 }, 'stock'],
    [{ admission: { maxActiveShoppers: 0 } }, 'admission.maxActiveShoppers'],
    [{ admission: { checkoutWindow: '20 minutes' } }, 'admission.checkoutWindow: must be a duration'],
    [{ queue: { ticketTTL: '0s' } }, 'queue.ticketTTL: ticketTTL must be at least 1s'],
    [{ queue: { ticketTTL: '30d' } }, 'queue.ticketTTL: ticketTTL must be at most 24d'],
    [{ admission: { checkoutWindow: '25d' } }, 'admission.checkoutWindow: checkoutWindow must be at most 24d'],
    [{ stock: 3_000_000_000 }, 'stock'],
    [{ closesAt: '2026-12-01T09:00:00+09:00' }, 'closesAt: opensAt must be before closesAt'],
    [{ opensAt: 'tomorrow' }, 'opensAt: must be an RFC 3339 timestamp'],
    [{ product: { name: '', price: 1, currency: 'KRW' } }, 'product.name'],
    [{ product: { name: 'x', price: 1, currency: 'won' } }, 'product.currency: must be an ISO 4217 code'],
    [{ surprise: true }, 'Unrecognized key'],
    [{ queue: { mode: 'Sometimes' } }, 'queue.mode'],
    [{ queue: { prequeue: 'soon' } }, 'queue.prequeue: must be a duration'],
    [{ queue: { prequeue: '0s' } }, 'queue.prequeue: prequeue must be at least 1s'],
    [{ admission: { maxAdmissionsPerMinute: 0 } }, 'admission.maxAdmissionsPerMinute'],
    [{ admission: { maxAdmissionsPerMinute: 2.5 } }, 'admission.maxAdmissionsPerMinute'],
  ])('refuses %j, naming %s', (change, message) => {
    const result = quickDealSpecSchema.safeParse({ ...valid, ...change });
    expect(result.success).toBe(false);
    expect(describeIssues(result.error!)).toContain(message);
  });

  it('accepts only deal ids that can name a Kafka topic and a Kubernetes object', () => {
    for (const ok of ['iphone-17-pro', 'a', 'deal-2026']) expect(dealIdSchema.safeParse(ok).success).toBe(true);
    for (const bad of ['Upper', '-leading', 'trailing-', 'has_underscore', 'dots.in.name', 'x'.repeat(64), ''])
      expect(dealIdSchema.safeParse(bad).success).toBe(false);
    expect(topicForDeal('iphone-17-pro')).toBe('quickdeal.tickets.iphone-17-pro');
    expect(dealForTopic('quickdeal.tickets.iphone-17-pro')).toBe('iphone-17-pro');
    expect(dealForTopic('other.topic')).toBeUndefined();
    expect(dealForTopic('quickdeal.tickets.BAD_NAME')).toBeUndefined();
  });
});

describe('a deal’s phase', () => {
  const deal = { stock: 10, opensAt: 1_000, closesAt: 5_000, paused: false };
  it('moves Scheduled → Open → SoldOut, or Closed at closesAt, or Paused', () => {
    expect(dealPhase(deal, 0, 500)).toBe('Scheduled');
    expect(dealPhase(deal, 0, 1_000)).toBe('Open');
    expect(dealPhase(deal, 10, 2_000)).toBe('SoldOut');
    expect(dealPhase({ ...deal, paused: true }, 3, 2_000)).toBe('Paused');
    expect(dealPhase(deal, 3, 5_000)).toBe('Closed');
    expect(dealPhase({ ...deal, closesAt: null }, 3, 1e12)).toBe('Open');
  });
});
