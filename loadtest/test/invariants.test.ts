import { describe, expect, it } from 'vitest';
import { checkInvariants, type Evidence } from '../src/invariants.js';
import { cleanSale, hour, t0 } from './sale-fixture.js';

const check = (evidence: Evidence, name: string) => checkInvariants(evidence).checks.find((c) => c.name === name);

describe('the invariant checker', () => {
  it('passes a sale that kept every invariant', () => {
    const report = checkInvariants(cleanSale().evidence());
    expect(report.checks.filter((c) => c.violations > 0)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.figures).toMatchObject({
      fifoViolations: 0,
      oversoldUnits: 0,
      lostTickets: 0,
      stillWaiting: 0,
      maxActiveSampled: 2,
      ticketsChecked: 5,
    });
  });

  it('catches an admission out of queue order', () => {
    const sale = cleanSale();
    const [first, second, ...rest] = sale.truth.admissions;
    sale.truth.admissions = [second!, first!, ...rest];
    const report = checkInvariants(sale.evidence());
    expect(report.ok).toBe(false);
    expect(report.figures.fifoViolations).toBe(1);
    expect(check(sale.evidence(), 'strict-fifo')?.examples[0]).toContain('queue number 1 admitted after 2');
  });

  it('catches a valid, unexpired ticket passed over, but not one that had expired', () => {
    const sale = cleanSale();
    // s2 was never admitted, yet s3 (behind it) was, while s2's ticket was still valid.
    sale.truth.admissions = sale.truth.admissions.filter((a) => a.shopperId !== 's2');
    sale.truth.records.set('s2', { state: 'skipped', jti: 'jti-s2', queueNumber: 2, deadline: undefined });
    sale.truth.redis = { ...sale.truth.redis, admitted: 3, cancelled: 0 };
    const broken = checkInvariants(sale.evidence());
    expect(broken.figures.fifoViolations).toBe(1);
    expect(check(sale.evidence(), 'strict-fifo')?.examples[0]).toMatch(/ticket 2 \(s2\).*passed over: 3 admitted/);

    // The same line, but s2's ticket expired before s3 was admitted: skipping it was right.
    const entry = sale.truth.log.find((e) => e.queueNumber === 2)!;
    entry.expiresAtMs = t0 + 2_000;
    expect(checkInvariants(sale.evidence()).figures.fifoViolations).toBe(0);
  });

  it('catches an oversell, an order without an admission, and Redis disagreeing with Postgres', () => {
    const sale = cleanSale();
    sale.truth.postgres.sold = 4;
    sale.truth.postgres.orders.push({ shopperId: 's5', queueNumber: 5, createdAt: t0 + 6_000 });
    const report = checkInvariants(sale.evidence());
    expect(report.figures.oversoldUnits).toBe(1);
    const oversell = check(sale.evidence(), 'no-oversell');
    expect(oversell?.examples.join('\n')).toContain('sold 4 and 4 orders for a stock of 3');
    expect(oversell?.examples.join('\n')).toContain('order of s5 (queue number 5) without an admission');
    expect(oversell?.examples.join('\n')).toContain('Redis believes 3 sold, Postgres says 4');
  });

  it('catches a lost ticket: processed but neither admitted, skipped nor sold out, or missing from the log', () => {
    const sale = cleanSale();
    sale.truth.records.set('s5', { state: 'waiting', jti: 'jti-s5', queueNumber: 5, deadline: undefined });
    expect(checkInvariants(sale.evidence()).figures.lostTickets).toBe(1);

    const missing = cleanSale();
    missing.truth.log = missing.truth.log.filter((e) => e.queueNumber !== 5);
    missing.truth.records.delete('s5');
    const report = checkInvariants(missing.evidence());
    expect(report.figures.lostTickets).toBe(1);
    expect(check(missing.evidence(), 'no-lost-ticket')?.examples[0]).toContain(
      'ticket 5 of s5 was answered but the log holds nothing there',
    );
  });

  it('takes a second copy of a ticket in the log (written again after a takeover) for the stray it is, not a lost or passed-over ticket', () => {
    const sale = cleanSale();
    // s1's ticket written twice: the record points at 1; the copy at 6 was skipped by admission
    sale.truth.log.push({ queueNumber: 6, shopperId: 's1', jti: 'jti-s1', expiresAtMs: t0 + 2 * hour, valid: true });
    sale.truth.redis = { ...sale.truth.redis, served: 6, lastQueueNumber: 6 };
    // and a later shopper admitted after it
    sale.truth.log.push({ queueNumber: 7, shopperId: 's7', jti: 'jti-s7', expiresAtMs: t0 + 2 * hour, valid: true });
    const report = checkInvariants(sale.evidence());
    expect(report.figures).toMatchObject({ lostTickets: 0, fifoViolations: 0 });
  });

  it('counts tickets still in line when the run stopped as waiting, not lost', () => {
    const sale = cleanSale();
    sale.truth.redis = { ...sale.truth.redis, served: 4, soldOutTickets: 0 };
    sale.truth.records.set('s5', { state: 'waiting', jti: 'jti-s5', queueNumber: 5, deadline: undefined });
    const report = checkInvariants(sale.evidence());
    expect(report.figures).toMatchObject({ lostTickets: 0, stillWaiting: 1 });
    expect(report.ok).toBe(true);
  });

  it('catches the cap exceeded', () => {
    const sale = cleanSale();
    const evidence = { ...sale.evidence(), activeSamples: [1, 2, 3, 2] };
    expect(check(evidence, 'cap')?.violations).toBe(1);
    expect(checkInvariants(evidence).figures.maxActiveSampled).toBe(3);
  });

  it('catches a second ticket, admission or order for one shopper', () => {
    const sale = cleanSale();
    sale.answered[0]!.distinctTickets = 2;
    sale.truth.admissions.push({ queueNumber: 6, shopperId: 's1', admittedAt: t0 + 9_000 });
    sale.truth.postgres.orders.push({ shopperId: 's3', queueNumber: 7, createdAt: t0 + 9_500 });
    const examples = check({ ...sale.evidence(), windowMs: 10_000 }, 'one-each')?.examples ?? [];
    expect(examples).toEqual(
      expect.arrayContaining([
        's1 was handed 2 different tickets',
        's1 admitted 2 times, again while an earlier checkout was open or paid',
        's3 has 2 paid orders',
      ]),
    );
  });

  it('lets a shopper whose checkout expired unpaid be admitted again from the back of the line, never after paying', () => {
    const sale = cleanSale();
    // s2 was admitted at t0 + 1,001 and never paid; a 5 s window later a new ticket of theirs is admitted
    sale.truth.admissions.push({ queueNumber: 6, shopperId: 's2', admittedAt: t0 + 7_000 });
    expect(check({ ...sale.evidence(), windowMs: 5_000 }, 'one-each')?.violations).toBe(0);
    // s1 paid for queue number 1: a second admission is a violation however late
    sale.truth.admissions.push({ queueNumber: 7, shopperId: 's1', admittedAt: t0 + 30_000 });
    expect(check({ ...sale.evidence(), windowMs: 5_000 }, 'one-each')?.examples).toEqual([
      's1 admitted 2 times, again while an earlier checkout was open or paid',
    ]);
  });

  it('catches a unit kept past its deadline and admissions that do not add up', () => {
    const sale = cleanSale();
    sale.truth.activeDeadlines = [{ shopperId: 's2', deadline: t0 + 10_000 }];
    sale.truth.redis = { ...sale.truth.redis, active: 1, cancelled: 0 };
    const units = check(sale.evidence(), 'units-returned');
    expect(units?.examples[0]).toContain('s2 still holds a unit 50 s after the deadline');
    expect(checkInvariants(sale.evidence()).figures.staleCheckouts).toBe(1);

    const leaky = cleanSale();
    leaky.truth.redis = { ...leaky.truth.redis, cancelled: 0 };
    expect(check(leaky.evidence(), 'units-returned')?.examples[0]).toContain(
      '4 admitted but 3 paid + 0 cancelled + 0 expired + 0 still active = 3',
    );
  });

  it('catches the API moving a status backwards or disagreeing with the truth', () => {
    const sale = cleanSale();
    sale.answered[3]!.statuses = ['ACCESS_DENIED', 'ACCESS_GRANTED', 'ACCESS_DENIED', 'ACCESS_GRANTED', 'PURCHASED'];
    sale.answered[4]!.statuses = ['ACCESS_DENIED', 'ITEM_SOLD_OUT', 'ACCESS_DENIED'];
    const evidence = {
      ...sale.evidence(),
      apiAnswers: [
        { shopperId: 's5', status: 'PURCHASED' },
        { shopperId: 's1', status: 'PURCHASED' },
      ],
    };
    const api = check(evidence, 'api-agrees');
    expect(api?.violations).toBe(3);
    expect(api?.examples).toEqual(
      expect.arrayContaining([
        's4 saw ACCESS_DENIED → ACCESS_GRANTED → ACCESS_DENIED → ACCESS_GRANTED → PURCHASED',
        's5 saw ACCESS_DENIED → ITEM_SOLD_OUT → ACCESS_DENIED',
      ]),
    );
  });
});
