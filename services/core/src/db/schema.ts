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

export interface Database {
  deals: DealsTable;
  orders: OrdersTable;
}

export type DealRow = Selectable<DealsTable>;
export type NewDeal = Insertable<DealsTable>;
export type OrderRow = Selectable<OrdersTable>;
