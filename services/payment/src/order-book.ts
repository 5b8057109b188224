import { sql, type Kysely } from 'kysely';
import { pgConstraint, pgErrorCode, pgErrorCodes, type Database, type OrderRow } from '@quickdeal/core';

export type RecordOrderResult =
  | { outcome: 'recorded'; order: OrderRow; sold: number }
  /** `fenced`: the payment attempt is no longer pending within its lease (it was settled as dead), so it may not sell. */
  | { outcome: 'already_purchased' | 'sold_out' | 'idempotency_key_taken' | 'fenced' };

class Fenced extends Error {}

/** Postgres, the truth of what was sold: an order and its unit are recorded in one transaction. */
export class OrderBook {
  constructor(private readonly db: Kysely<Database>) {}

  byIdempotencyKey(key: string): Promise<OrderRow | undefined> {
    return this.db.selectFrom('orders').selectAll().where('idempotency_key', '=', key).executeTakeFirst();
  }

  byShopper(dealId: string, shopperId: string): Promise<OrderRow | undefined> {
    return this.db.selectFrom('orders').selectAll().where('deal_id', '=', dealId).where('shopper_id', '=', shopperId).executeTakeFirst();
  }

  async soldCount(dealId: string): Promise<number> {
    const row = await this.db.selectFrom('deals').select('sold').where('id', '=', dealId).executeTakeFirst();
    return row?.sold ?? 0;
  }

  deal(dealId: string) {
    return this.db.selectFrom('deals').selectAll().where('id', '=', dealId).executeTakeFirst();
  }

  /**
   * Inserts the order and raises `sold`, in one transaction with moving its payment attempt (the
   * row keyed by the same Idempotency-Key) from `pending` to `paid` while its lease holds: the
   * fence. `CHECK (sold <= stock)` makes Postgres refuse an oversell whatever Redis believed.
   */
  async record(order: Omit<OrderRow, 'created_at' | 'status'>): Promise<RecordOrderResult> {
    try {
      return await this.db.transaction().execute(async (tx) => {
        const attempt = await tx
          .updateTable('payments')
          .set({ status: 'paid', order_id: order.id, provider_reference: order.payment_reference, updated_at: sql<Date>`now()` })
          .where('idempotency_key', '=', order.idempotency_key)
          .where('status', '=', 'pending')
          .where('lease_until', '>', sql<Date>`now()`)
          .returning('idempotency_key')
          .executeTakeFirst();
        if (!attempt) throw new Fenced();
        const saved = await tx
          .insertInto('orders')
          .values({ ...order, status: 'PAID' })
          .returningAll()
          .executeTakeFirstOrThrow();
        const { sold } = await tx
          .updateTable('deals')
          .set({ sold: sql<number>`sold + 1`, updated_at: sql<Date>`now()` })
          .where('id', '=', order.deal_id)
          .returning('sold')
          .executeTakeFirstOrThrow();
        return { outcome: 'recorded' as const, order: saved, sold };
      });
    } catch (error) {
      if (error instanceof Fenced) return { outcome: 'fenced' };
      const code = pgErrorCode(error);
      if (code === pgErrorCodes.checkViolation) return { outcome: 'sold_out' };
      if (code === pgErrorCodes.uniqueViolation) {
        return { outcome: pgConstraint(error) === 'orders_idempotency_key' ? 'idempotency_key_taken' : 'already_purchased' };
      }
      throw error;
    }
  }
}
