import { sql, type Kysely } from 'kysely';
import type { Database, PaymentRow, PaymentStatus } from '@quickdeal/core';

export interface NewAttempt {
  idempotencyKey: string;
  dealId: string;
  shopperId: string;
  queueNumber: number;
  fence: string;
  amount: number;
  currency: string;
  leaseMs: number;
}

/**
 * The `payments` table: one row per Idempotency-Key, written before the provider is asked, so a
 * payment that dies anywhere leaves a row that says what to settle. Its status is the fence: only
 * a `pending` row inside its lease can become `paid` (OrderBook.record), and settling a lapsed one
 * first moves it to `abandoned`, after which it never can.
 */
export class PaymentAttempts {
  constructor(private readonly db: Kysely<Database>) {}

  byKey(idempotencyKey: string): Promise<PaymentRow | undefined> {
    return this.db.selectFrom('payments').selectAll().where('idempotency_key', '=', idempotencyKey).executeTakeFirst();
  }

  /** Records the intent; false when the key is already taken (by this payment or another). */
  async begin(attempt: NewAttempt): Promise<boolean> {
    const row = await this.db
      .insertInto('payments')
      .values({
        idempotency_key: attempt.idempotencyKey,
        deal_id: attempt.dealId,
        shopper_id: attempt.shopperId,
        queue_number: attempt.queueNumber,
        fence: attempt.fence,
        amount: attempt.amount,
        currency: attempt.currency,
        status: 'pending',
        lease_until: sql<Date>`now() + ${attempt.leaseMs} * interval '1 millisecond'`,
      })
      .onConflict((oc) => oc.column('idempotency_key').doNothing())
      .returning('idempotency_key')
      .executeTakeFirst();
    return row !== undefined;
  }

  /** A shopper's attempts that are not settled yet (pending, or abandoned and not yet voided). */
  unsettled(dealId: string, shopperId: string): Promise<PaymentRow[]> {
    return this.db
      .selectFrom('payments')
      .selectAll()
      .where('deal_id', '=', dealId)
      .where('shopper_id', '=', shopperId)
      .where('status', 'in', ['pending', 'abandoned'])
      .execute();
  }

  /** Attempts of these deals that nobody will finish: abandoned ones, and pending ones whose lease passed. */
  lapsed(dealIds: string[], limit = 100): Promise<PaymentRow[]> {
    return this.db
      .selectFrom('payments')
      .selectAll()
      .where('deal_id', 'in', dealIds)
      .where((eb) =>
        eb.or([eb('status', '=', 'abandoned'), eb.and([eb('status', '=', 'pending'), eb('lease_until', '<', sql<Date>`now()`)])]),
      )
      .orderBy('lease_until')
      .limit(limit)
      .execute();
  }

  /** The fence: a pending attempt can no longer record an order. Answers the row as it now is. */
  async abandon(idempotencyKey: string): Promise<PaymentRow | undefined> {
    await this.db
      .updateTable('payments')
      .set({ status: 'abandoned', updated_at: sql<Date>`now()` })
      .where('idempotency_key', '=', idempotencyKey)
      .where('status', '=', 'pending')
      .execute();
    return this.byKey(idempotencyKey);
  }

  /** Ends an attempt that made no order: declined, refunded or voided. */
  async finish(
    idempotencyKey: string,
    status: Exclude<PaymentStatus, 'pending' | 'abandoned' | 'paid'>,
    providerReference?: string,
  ): Promise<void> {
    await this.db
      .updateTable('payments')
      .set({ status, updated_at: sql<Date>`now()`, ...(providerReference ? { provider_reference: providerReference } : {}) })
      .where('idempotency_key', '=', idempotencyKey)
      .where('status', 'in', ['pending', 'abandoned'])
      .execute();
  }
}
