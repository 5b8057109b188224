/**
 * Money on every path: a payment that dies, stalls or loses Postgres at each step ends with the
 * shopper charged at most once, an order or a refund, the checkout back within the payment lease
 * where nothing was kept, and no unit sold twice. Runs on the fault profile's Redis and Postgres
 * (stopped here), holding the fault lock so no other fault suite stops them meanwhile.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PaymentFaults } from '@quickdeal/payment';
import { endpoints } from '@quickdeal/dev/profiles';
import { ensurePostgres, stopServer } from '@quickdeal/dev/stack';
import { startFaultRoom, killHard, startServiceProcess, uniqueName, type FaultRoom, type WaitingRoom } from '@quickdeal/dev/testing';

const fault = endpoints('fault');
const LEASE_MS = 2_000;
/** Sweeps and timers run late on a busy machine: a lockout is measured against the lease plus this, far below any window here. */
const SLACK_MS = 4_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** A step that never finishes: the process died there. */
const dies = () => new Promise<void>(() => undefined);

let room: WaitingRoom;
let faultRoom: FaultRoom | undefined;
const ledgerFile = join(mkdtempSync(join(tmpdir(), 'quickdeal-ledger-')), 'ledger.jsonl');

beforeAll(async () => {
  faultRoom = await startFaultRoom({ paymentLeaseMs: LEASE_MS, paymentLedgerFile: ledgerFile });
  room = faultRoom.room;
}, 180_000);
afterAll(async () => {
  await faultRoom?.close();
});

/** A deal and its first `count` shoppers admitted into checkout. */
async function admitted(count: number, spec: { stock?: number; window?: string; cap?: number } = {}) {
  const stock = spec.stock ?? 10;
  const cap = spec.cap ?? 10;
  const { dealId } = await room.createDeal({ stock, admission: { maxActiveShoppers: cap, checkoutWindow: spec.window ?? '20m' } });
  const tickets: string[] = [];
  for (let i = 0; i < count; i++) tickets.push((await room.takeTicket(dealId, `buyer${i}`)).body.ticket);
  await room.waitFor(
    () => room.store.snapshot(dealId),
    (d) => d.active === Math.min(count, stock, cap),
  );
  return { dealId, tickets };
}

const ticketState = async (dealId: string, shopperId: string) => (await room.store.shopperTicket(dealId, shopperId))?.state;
const attemptsOf = (dealId: string) => room.db.selectFrom('payments').selectAll().where('deal_id', '=', dealId).execute();

/**
 * The money invariants of a deal: every charge made for it ended as exactly one of an order or a
 * refund, each shopper kept at most one charge, each order has its charge, and Postgres's sold
 * count is its orders (never above stock).
 */
async function expectMoneySettled(dealId: string) {
  const keys = new Set((await attemptsOf(dealId)).map((a) => a.idempotency_key));
  const charges = room.provider.ledger.charges().filter((c) => keys.has(c.key));
  const refunded = new Set(room.provider.ledger.refunded());
  const orders = await room.db.selectFrom('orders').selectAll().where('deal_id', '=', dealId).execute();
  const ordered = new Set(orders.map((o) => o.payment_reference));
  for (const charge of charges) {
    expect(
      ordered.has(charge.reference) !== refunded.has(charge.reference),
      `charge ${charge.key}: an order or a refund, not both, not neither`,
    ).toBe(true);
  }
  const kept = charges.filter((c) => !refunded.has(c.reference));
  expect(new Set(kept.map((c) => c.shopperId)).size).toBe(kept.length);
  for (const order of orders) expect(charges.some((c) => c.reference === order.payment_reference)).toBe(true);
  const deal = await room.db.selectFrom('deals').select(['sold', 'stock']).where('id', '=', dealId).executeTakeFirstOrThrow();
  expect(deal.sold).toBe(orders.length);
  expect(deal.sold).toBeLessThanOrEqual(deal.stock);
  return { charges, refunded, orders };
}

/** Starts a payment through an app that meets `faults`, without waiting for its answer. */
function payThrough(faults: PaymentFaults, dealId: string, shopperId: string, ticket: string, key: string, token?: string) {
  const answer = room.pay(dealId, shopperId, ticket, key, token, room.newPaymentApp(faults));
  answer.catch(() => undefined);
  return answer;
}

/** Pays until it is answered 201 (a lapsed claim answers 409 until settled); returns how long that took. */
async function payWhenFree(dealId: string, shopperId: string, ticket: string, timeoutMs: number) {
  const started = Date.now();
  const answers: number[] = [];
  for (;;) {
    const paid = await room.pay(dealId, shopperId, ticket);
    answers.push(paid.status);
    if (paid.status === 201) return { elapsedMs: Date.now() - started, answers };
    expect(paid.status, JSON.stringify(paid.body)).toBe(409);
    expect(paid.body.error.code).toBe('PAYMENT_IN_PROGRESS');
    if (Date.now() - started > timeoutMs) throw new Error(`still locked out after ${timeoutMs} ms: ${answers.join(',')}`);
    await sleep(100);
  }
}

describe('a payment process that dies', () => {
  it('before the charge: nothing is charged, and the shopper pays again within the lease', async () => {
    const { dealId, tickets } = await admitted(1);
    void payThrough({ beforeCharge: dies }, dealId, 'buyer0', tickets[0]!, uniqueName('dead'));
    await room.waitFor(
      () => ticketState(dealId, 'buyer0'),
      (s) => s === 'paying',
    );
    const { elapsedMs } = await payWhenFree(dealId, 'buyer0', tickets[0]!, LEASE_MS + SLACK_MS + 1_000);
    expect(elapsedMs).toBeLessThan(LEASE_MS + SLACK_MS);
    const { charges, orders } = await expectMoneySettled(dealId);
    expect(charges).toHaveLength(1);
    expect(orders).toHaveLength(1);
    expect((await attemptsOf(dealId)).map((a) => a.status).sort()).toEqual(['paid', 'voided']);
  });

  it('between the charge and the commit: the charge is refunded within the lease, and the shopper pays again', async () => {
    const { dealId, tickets } = await admitted(1);
    const key = uniqueName('dead');
    void payThrough({ afterCharge: dies }, dealId, 'buyer0', tickets[0]!, key);
    await room.waitFor(async () => room.provider.ledger.charges().some((c) => c.key === key), Boolean);
    const { elapsedMs } = await payWhenFree(dealId, 'buyer0', tickets[0]!, LEASE_MS + SLACK_MS + 1_000);
    expect(elapsedMs).toBeLessThan(LEASE_MS + SLACK_MS);
    const { charges, refunded, orders } = await expectMoneySettled(dealId);
    expect(charges).toHaveLength(2);
    expect(refunded.has(charges[0]!.reference)).toBe(true);
    expect(orders).toHaveLength(1);
    expect((await attemptsOf(dealId)).map((a) => a.status).sort()).toEqual(['paid', 'refunded']);
  });

  it('between the commit and the Redis update: the sweeper marks it purchased within the lease, and the unit counts once', async () => {
    const { dealId, tickets } = await admitted(2, { stock: 2 });
    void payThrough({ afterCommit: dies }, dealId, 'buyer0', tickets[0]!, uniqueName('dead'));
    await room.waitFor(
      async () => (await room.db.selectFrom('orders').select('id').where('deal_id', '=', dealId).execute()).length,
      (n) => n === 1,
    );
    const committedAt = Date.now();
    await room.waitFor(
      () => ticketState(dealId, 'buyer0'),
      (s) => s === 'purchased',
      LEASE_MS + SLACK_MS,
    );
    expect(Date.now() - committedAt).toBeLessThan(LEASE_MS + SLACK_MS);
    expect(await room.store.snapshot(dealId)).toMatchObject({ sold: 1, active: 1, available: 0 });
    await room.waitFor(
      () => room.status(dealId, 'buyer0', tickets[0]!),
      (s) => s.body.status === 'PURCHASED',
      5_000,
    );
    const { refunded, orders } = await expectMoneySettled(dealId);
    expect(orders).toHaveLength(1);
    expect(refunded.size === 0 || !orders.some((o) => refunded.has(o.payment_reference))).toBe(true);
    expect((await room.pay(dealId, 'buyer0', tickets[0]!)).body.error.code).toBe('ALREADY_PURCHASED');
  });
});

describe('a payment lease', () => {
  it('that lapsed at minute 1 of a 20-minute window lets the shopper pay again within the lease, even with no sweeper', async () => {
    const { dealId, tickets } = await admitted(1, { window: '20m' });
    await room.sweeper.stop();
    try {
      void payThrough({ beforeCharge: dies }, dealId, 'buyer0', tickets[0]!, uniqueName('dead'));
      await room.waitFor(
        () => ticketState(dealId, 'buyer0'),
        (s) => s === 'paying',
      );
      // the claim script itself settles a lapsed lease: the shopper's own retry does it
      const { elapsedMs, answers } = await payWhenFree(dealId, 'buyer0', tickets[0]!, LEASE_MS + SLACK_MS + 1_000);
      expect(elapsedMs).toBeLessThan(LEASE_MS + SLACK_MS);
      expect(answers[0]).toBe(409);
    } finally {
      room.sweeper.start();
    }
    await expectMoneySettled(dealId);
  });

  it('outlived by a slow payment: the payment cannot sell, the unit goes to the next shopper, the charge is refunded', async () => {
    const { dealId, tickets } = await admitted(2, { stock: 1, cap: 1, window: '3s' });
    const slow = payThrough(
      { afterCharge: () => sleep(LEASE_MS + 1_500).then(() => undefined) },
      dealId,
      'buyer0',
      tickets[0]!,
      uniqueName('slow'),
    );
    // the lease lapses: the sweeper settles buyer0's payment; at the deadline buyer1 is admitted
    await room.waitFor(
      () => ticketState(dealId, 'buyer1'),
      (s) => s === 'admitted',
      LEASE_MS + SLACK_MS,
    );
    expect(await ticketState(dealId, 'buyer0')).toBe('expired');
    expect((await room.pay(dealId, 'buyer1', tickets[1]!)).status).toBe(201);
    const late = await slow;
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('PAYMENT_CANCELLED');
    const { orders } = await expectMoneySettled(dealId);
    expect(orders.map((o) => o.shopper_id)).toEqual(['buyer1']);
  });

  it('outlived by a commit stuck behind a slow Postgres: the unit is sold once, to one shopper', async () => {
    const { dealId, tickets } = await admitted(2, { stock: 1, cap: 1, window: '3s' });
    // another transaction holds the deal's row, so the payment's writes wait past the lease
    let unlock = () => undefined as void;
    const held = room.db.transaction().execute(async (tx) => {
      await tx.selectFrom('deals').select('id').where('id', '=', dealId).forUpdate().execute();
      await new Promise<void>((resolve) => (unlock = resolve));
    });
    const slow = room.pay(dealId, 'buyer0', tickets[0]!);
    await sleep(LEASE_MS + 1_500);
    unlock();
    await held;
    const answer = await slow;
    expect([201, 409]).toContain(answer.status);
    await room.waitFor(
      async () => (await attemptsOf(dealId)).every((a) => a.status !== 'pending' && a.status !== 'abandoned'),
      Boolean,
      LEASE_MS + 3_000,
    );
    const buyer1 = await room.waitFor(
      () => ticketState(dealId, 'buyer1'),
      (s) => s === 'admitted' || s === 'soldout',
      LEASE_MS + 3_000,
    );
    if (answer.status === 201) {
      expect(await ticketState(dealId, 'buyer0')).toBe('purchased');
      expect(buyer1).toBe('soldout');
    } else {
      expect(buyer1).toBe('admitted');
      expect((await room.pay(dealId, 'buyer1', tickets[1]!)).status).toBe(201);
    }
    const { orders } = await expectMoneySettled(dealId);
    expect(orders).toHaveLength(1);
    const deal = await room.store.snapshot(dealId);
    expect(deal.sold + deal.active).toBeLessThanOrEqual(1);
  });

  it('claimed by another payment is not released or completed by the old one (the fence)', async () => {
    const { dealId } = await admitted(1);
    const claim = await room.store.claimForPayment(dealId, 'buyer0', 1, 60_000);
    expect(claim.outcome).toBe('claimed');
    const fence = claim.outcome === 'claimed' ? claim.fence : '';
    expect(await room.store.abortPayment(dealId, 'buyer0', 1, `${fence}0`)).toBe(false);
    expect(await room.store.completePayment(dealId, 'buyer0', 1, 'stale', 0, `${fence}0`)).toBe('fenced');
    expect(await ticketState(dealId, 'buyer0')).toBe('paying');
    expect(await room.store.abortPayment(dealId, 'buyer0', 1, fence)).toBe(true);
    expect(await ticketState(dealId, 'buyer0')).toBe('admitted');
  });
});

describe('the provider', () => {
  it('timing out after charging: the charge is voided, the checkout given back at once, and the same key never charges again', async () => {
    const { dealId, tickets } = await admitted(1);
    const key = uniqueName('late');
    const timedOut = await room.pay(dealId, 'buyer0', tickets[0]!, key, 'tok_timeout_after_charge');
    expect(timedOut.status).toBe(503);
    expect(timedOut.body.error.code).toBe('PAYMENT_UNAVAILABLE');
    expect(timedOut.headers.get('retry-after')).toBeTruthy();
    expect(await ticketState(dealId, 'buyer0')).toBe('admitted');
    const again = await room.pay(dealId, 'buyer0', tickets[0]!, key, 'tok_approve');
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('PAYMENT_CANCELLED');
    expect(room.provider.ledger.charges().filter((c) => c.key === key)).toHaveLength(1);
    expect((await room.pay(dealId, 'buyer0', tickets[0]!, uniqueName('good'))).status).toBe(201);
    const { charges, orders } = await expectMoneySettled(dealId);
    expect(charges).toHaveLength(2);
    expect(orders).toHaveLength(1);
  });

  it('is asked once per Idempotency-Key, however often and however concurrently the key is sent', async () => {
    const { dealId, tickets } = await admitted(1);
    const key = uniqueName('same');
    const answers = await Promise.all(Array.from({ length: 5 }, () => room.pay(dealId, 'buyer0', tickets[0]!, key)));
    const paid = answers.filter((a) => a.status === 201);
    expect(paid.length).toBeGreaterThanOrEqual(1);
    for (const answer of answers) {
      if (answer.status !== 201) expect(answer.body.error.code).toBe('PAYMENT_IN_PROGRESS');
    }
    expect(new Set(paid.map((a) => a.body.orderId)).size).toBe(1);
    const replay = await room.pay(dealId, 'buyer0', tickets[0]!, key);
    expect(replay.body.orderId).toBe(paid[0]!.body.orderId);
    expect(room.provider.ledger.charges().filter((c) => c.key === key)).toHaveLength(1);
    await expectMoneySettled(dealId);
  });

  it('refuses a payment body over the limit with 413, charging nothing', async () => {
    const { dealId, tickets } = await admitted(1);
    const huge = await room.payment.request(`/api/v1/deals/${dealId}/orders`, {
      method: 'POST',
      headers: {
        'X-User-Id': 'buyer0',
        Authorization: `Bearer ${tickets[0]}`,
        'Idempotency-Key': uniqueName('big'),
        'Content-Type': 'application/json',
      },
      body: `{"paymentMethod": {"token": "tok_approve"}${' '.repeat(64 * 1024)}}`,
    });
    expect(huge.status).toBe(413);
    expect((await huge.json()).error.code).toBe('BODY_TOO_LARGE');
    expect(await ticketState(dealId, 'buyer0')).toBe('admitted');
    expect(await attemptsOf(dealId)).toHaveLength(0);
  });
});

describe('finalizing a ticket', () => {
  it('never moves a purchased ticket back to waiting', async () => {
    const { dealId, tickets } = await admitted(1);
    expect((await room.pay(dealId, 'buyer0', tickets[0]!)).status).toBe(201);
    const record = (await room.store.shopperTicket(dealId, 'buyer0'))!;
    // a finalize sent again (a retried command) after the ticket went all the way to purchased
    const repeated = await room.store.finalizeTicket(
      dealId,
      'buyer0',
      { jti: record.jti, queueNumber: record.queueNumber, token: 'other', expiresAtMs: Date.now() + 60_000 },
      60_000,
    );
    expect(repeated).toBe(true);
    expect(
      await room.store.finalizeTicket(
        dealId,
        'buyer0',
        { jti: record.jti, queueNumber: 99, token: 'other', expiresAtMs: Date.now() + 60_000 },
        60_000,
      ),
    ).toBe(false);
    expect(await room.store.shopperTicket(dealId, 'buyer0')).toMatchObject({ state: 'purchased', token: record.token });
    expect((await room.status(dealId, 'buyer0', tickets[0]!)).body.status).toBe('PURCHASED');
  });
});

describe('Postgres refusing connections', () => {
  it('before the payment: 503 with nothing charged, and the checkout free to pay at once when it is back', async () => {
    const { dealId, tickets } = await admitted(1);
    await stopServer('fault', 'postgres');
    try {
      const refused = await room.pay(dealId, 'buyer0', tickets[0]!);
      expect(refused.status).toBe(503);
      expect(refused.body.error.code).toBe('POSTGRES_UNAVAILABLE');
      expect(refused.headers.get('retry-after')).toBeTruthy();
      expect(await ticketState(dealId, 'buyer0')).toBe('admitted');
    } finally {
      await ensurePostgres('fault');
    }
    expect(await attemptsOf(dealId)).toHaveLength(0);
    expect((await room.pay(dealId, 'buyer0', tickets[0]!)).status).toBe(201);
    const { charges } = await expectMoneySettled(dealId);
    expect(charges).toHaveLength(1);
  });

  it('between the charge and the commit: 503, the charge refunded, and the shopper pays again within the lease of Postgres returning', async () => {
    const { dealId, tickets } = await admitted(1);
    const key = uniqueName('pgdown');
    const answer = await room.pay(
      dealId,
      'buyer0',
      tickets[0]!,
      key,
      undefined,
      room.newPaymentApp({ afterCharge: () => stopServer('fault', 'postgres').then(() => undefined) }),
    );
    expect(answer.status, JSON.stringify(answer.body)).toBe(503);
    expect(answer.body.error.code).toBe('POSTGRES_UNAVAILABLE');
    await ensurePostgres('fault');
    const back = Date.now();
    const { elapsedMs } = await payWhenFree(dealId, 'buyer0', tickets[0]!, LEASE_MS + SLACK_MS + 1_000);
    expect(Date.now() - back).toBeLessThan(LEASE_MS + SLACK_MS);
    expect(elapsedMs).toBeLessThan(LEASE_MS + SLACK_MS);
    await room.waitFor(
      async () => (await room.attempts.byKey(key))?.status,
      (s) => s === 'refunded',
      LEASE_MS + 3_000,
    );
    const { charges, orders } = await expectMoneySettled(dealId);
    expect(charges).toHaveLength(2);
    expect(orders).toHaveLength(1);
  });
});

describe('a real payment process killed with SIGKILL', () => {
  const running: ChildProcess[] = [];
  /** The replica that takes over, shared by the cases (process starts are the slow part). */
  let survivor: Awaited<ReturnType<typeof startServiceProcess>> | undefined;
  afterAll(async () => {
    for (const child of running) await killHard(child);
  });

  const startPayment = () =>
    startServiceProcess(
      'payment',
      {
        REDIS_URL: fault.redisUrl,
        SHOPPER_IDENTITY: 'header',
        DATABASE_URL: fault.postgresUrl,
        TICKET_VERIFICATION_KEYS: JSON.stringify(room.keyring.jwks()),
        PAYMENT_LEASE_MS: String(LEASE_MS * 2),
        PAYMENT_TIMEOUT_MS: String(LEASE_MS * 2 - 500),
        SWEEP_INTERVAL_MS: '100',
        TEST_PAYMENT_LEDGER: ledgerFile,
      },
      running,
    );
  const payAt = (port: number, dealId: string, ticket: string, key: string, token: string) =>
    fetch(`http://127.0.0.1:${port}/api/v1/deals/${dealId}/orders`, {
      method: 'POST',
      headers: { 'X-User-Id': 'buyer0', Authorization: `Bearer ${ticket}`, 'Idempotency-Key': key, 'Content-Type': 'application/json' },
      body: JSON.stringify({ paymentMethod: { token } }),
    });

  it.each([
    ['before the charge (the provider never answered)', 'tok_timeout', 0],
    ['between the charge and the commit', 'tok_timeout_after_charge', 1],
  ] as const)(
    '%s: after a restart the shopper pays within the lease, and any charge is refunded',
    async (_when, token, chargesBeforeKill) => {
      const { dealId, tickets } = await admitted(1, { window: '3m' });
      // both replicas are up first (a start takes seconds here), so the kill lands while the payment waits on the provider
      const first = await startPayment();
      survivor ??= await startPayment();
      const second = survivor;
      const killedKey = uniqueName('killed');
      const hanging = payAt(first.port, dealId, tickets[0]!, killedKey, token);
      hanging.catch(() => undefined);
      await room.waitFor(
        async () => (await room.attempts.byKey(killedKey))?.status,
        (s) => s === 'pending',
      );
      if (chargesBeforeKill) await room.waitFor(async () => room.provider.ledger.charges().some((c) => c.key === killedKey), Boolean);
      await killHard(first.child);
      const killedAt = Date.now();
      // killed mid-payment: nothing had settled it
      expect(await ticketState(dealId, 'buyer0')).toBe('paying');
      expect((await room.attempts.byKey(killedKey))?.status).toBe('pending');
      const answers: number[] = [];
      for (;;) {
        const retry = await payAt(second.port, dealId, tickets[0]!, uniqueName('retry'), 'tok_approve');
        answers.push(retry.status);
        if (retry.status === 201) break;
        expect(retry.status).toBe(409);
        if (Date.now() - killedAt > LEASE_MS * 2 + SLACK_MS + 2_000) throw new Error(`locked out past the lease: ${answers.join(',')}`);
        await sleep(200);
      }
      expect(Date.now() - killedAt).toBeLessThan(LEASE_MS * 2 + SLACK_MS);
      await room.waitFor(
        async () => (await room.attempts.byKey(killedKey))?.status,
        (s) => s === (chargesBeforeKill ? 'refunded' : 'voided'),
      );
      const { charges, orders } = await expectMoneySettled(dealId);
      expect(charges).toHaveLength(1 + chargesBeforeKill);
      expect(orders).toHaveLength(1);
    },
    240_000,
  ); // two processes start here, slow on a busy machine
});
