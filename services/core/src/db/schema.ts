import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

export interface DealsTable {
  id: string;
  product_name: string;
  price: ColumnType<number, number, number>;
  currency: string;
  stock: number;
  /** CHECK (sold <= stock): Postgres itself refuses an oversell. */
  sold: Generated<number>;
  opens_at: ColumnType<Date, Date, Date>;
  closes_at: ColumnType<Date | null, Date | null, Date | null>;
  max_active_shoppers: number;
  checkout_window_ms: number;
  ticket_ttl_ms: number;
  paused: boolean;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  /** Set when the deal's QuickDeal was deleted; a deal created again under the name starts afresh. */
  retired_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface OrdersTable {
  id: string;
  deal_id: string;
  shopper_id: string;
  queue_number: ColumnType<number, number, never>;
  amount: ColumnType<number, number, never>;
  currency: string;
  status: 'PAID';
  idempotency_key: string;
  payment_reference: string;
  created_at: Generated<Date>;
}

/**
 * A payment attempt, one per Idempotency-Key: `pending` before the provider is asked; then `paid`
 * (with its order), `declined`, or, when it could not be recorded or its process died,
 * `abandoned` (fenced off: it can never become paid) until the provider voided it: `refunded`
 * (a charge was made and given back) or `voided` (nothing was charged).
 */
export type PaymentStatus = 'pending' | 'abandoned' | 'paid' | 'declined' | 'refunded' | 'voided';

export interface PaymentsTable {
  idempotency_key: string;
  deal_id: string;
  shopper_id: string;
  queue_number: ColumnType<number, number, never>;
  /** The Redis claim's fence this attempt ran under. */
  fence: string;
  amount: ColumnType<number, number, never>;
  currency: string;
  status: PaymentStatus;
  provider_reference: string | null;
  order_id: string | null;
  /** Past this (Postgres's clock), the attempt may no longer record an order. */
  lease_until: ColumnType<Date, Date | string, never>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface Database {
  deals: DealsTable;
  orders: OrdersTable;
  payments: PaymentsTable;
}

export type DealRow = Selectable<DealsTable>;
export type NewDeal = Insertable<DealsTable>;
export type OrderRow = Selectable<OrdersTable>;
export type PaymentRow = Selectable<PaymentsTable>;
