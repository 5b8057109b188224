import { setTimeout } from 'node:timers/promises';
import { pgErrorCode, pgErrorCodes } from './connect.js';
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';

/**
 * Migrations live in code, in order. On Kubernetes the chart's hook Job runs them before an install
 * or upgrade (`node operator/dist/main.js migrate`); payment, `quickdeal apply` and the local stack
 * run them too (Postgres serialises concurrent runs, and a run with nothing pending changes nothing).
 */
const migrations: Record<string, Migration> = {
  '2026-11-25-001-deals-and-orders': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('deals')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('product_name', 'text', (c) => c.notNull())
        .addColumn('price', 'bigint', (c) => c.notNull().check(sql`price >= 0`))
        .addColumn('currency', 'char(3)', (c) => c.notNull())
        .addColumn('stock', 'integer', (c) => c.notNull().check(sql`stock >= 0`))
        .addColumn('sold', 'integer', (c) =>
          c
            .notNull()
            .defaultTo(0)
            .check(sql`sold >= 0`),
        )
        .addColumn('opens_at', 'timestamptz', (c) => c.notNull())
        .addColumn('closes_at', 'timestamptz')
        .addColumn('max_active_shoppers', 'integer', (c) => c.notNull().check(sql`max_active_shoppers >= 1`))
        .addColumn('checkout_window_ms', 'integer', (c) => c.notNull().check(sql`checkout_window_ms > 0`))
        .addColumn('ticket_ttl_ms', 'integer', (c) => c.notNull().check(sql`ticket_ttl_ms > 0`))
        .addColumn('paused', 'boolean', (c) => c.notNull().defaultTo(false))
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addCheckConstraint('deals_no_oversell', sql`sold <= stock`)
        .execute();
      await db.schema
        .createTable('orders')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('deal_id', 'text', (c) => c.notNull().references('deals.id'))
        .addColumn('shopper_id', 'text', (c) => c.notNull())
        .addColumn('queue_number', 'bigint', (c) => c.notNull())
        .addColumn('amount', 'bigint', (c) => c.notNull())
        .addColumn('currency', 'char(3)', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('idempotency_key', 'text', (c) => c.notNull())
        .addColumn('payment_reference', 'text', (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addUniqueConstraint('orders_one_per_shopper', ['deal_id', 'shopper_id'])
        .addUniqueConstraint('orders_idempotency_key', ['idempotency_key'])
        .execute();
    },
  },
  '2026-12-01-001-payments': {
    // A payment's intent, written before the provider is asked: whatever dies afterwards, the row
    // tells the sweeper what to settle. Its status is also the fence: an order is recorded only by
    // moving the row from 'pending' to 'paid' while its lease holds (docs/waiting-room.md).
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('payments')
        .addColumn('idempotency_key', 'text', (c) => c.primaryKey())
        .addColumn('deal_id', 'text', (c) => c.notNull().references('deals.id'))
        .addColumn('shopper_id', 'text', (c) => c.notNull())
        .addColumn('queue_number', 'bigint', (c) => c.notNull())
        .addColumn('fence', 'text', (c) => c.notNull())
        .addColumn('amount', 'bigint', (c) => c.notNull())
        .addColumn('currency', 'char(3)', (c) => c.notNull())
        .addColumn('status', 'text', (c) =>
          c.notNull().check(sql`status in ('pending', 'abandoned', 'paid', 'declined', 'refunded', 'voided')`),
        )
        .addColumn('provider_reference', 'text')
        .addColumn('order_id', 'uuid')
        .addColumn('lease_until', 'timestamptz', (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema.createIndex('payments_by_shopper').on('payments').columns(['deal_id', 'shopper_id']).execute();
      await sql`create index payments_unsettled on payments (lease_until) where status in ('pending', 'abandoned')`.execute(db);
      // Orders taken before this table existed: their keys replay as paid.
      await sql`insert into payments (idempotency_key, deal_id, shopper_id, queue_number, fence, amount, currency, status,
          provider_reference, order_id, lease_until, created_at, updated_at)
        select idempotency_key, deal_id, shopper_id, queue_number, '', amount, currency, 'paid', payment_reference, id, created_at, created_at, created_at
        from orders`.execute(db);
    },
  },
  '2026-12-01-002-retired-deals': {
    // A deleted deal is retired, not forgotten (its orders stay); when a deal of the same name is
    // created again, the retired row moves aside to `<name>~<retired at, ms>` with its orders and
    // payments (ON UPDATE CASCADE), so the new deal starts with nothing sold.
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('deals').addColumn('retired_at', 'timestamptz').execute();
      for (const table of ['orders', 'payments']) {
        await db.schema.alterTable(table).dropConstraint(`${table}_deal_id_fkey`).execute();
        await db.schema
          .alterTable(table)
          .addForeignKeyConstraint(`${table}_deal_id_fkey`, ['deal_id'], 'deals', ['id'], (fk) => fk.onUpdate('cascade'))
          .execute();
      }
    },
  },
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

/**
 * Postgres's codes for a schema or a table that does not exist. Kysely's migrator first lists the
 * tables of every schema in the database, by name; a schema or table dropped elsewhere while it
 * does so fails that listing (reproduced in migrations.int.test.ts). Nothing has run then, so the
 * migration is tried again.
 */
const droppedWhileListed = new Set<string | undefined>([pgErrorCodes.invalidSchemaName, pgErrorCodes.undefinedTable]);
const listingAttempts = 5;

/** Runs what is pending; returns the names of the migrations it ran (none when Postgres was up to date). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  for (let attempt = 1; ; attempt++) {
    const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
    const failed = results?.find((r) => r.status === 'Error');
    if (!error && !failed) return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    if (!failed && attempt < listingAttempts && droppedWhileListed.has(pgErrorCode(error))) {
      await setTimeout(50 * attempt);
      continue;
    }
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}

/** The migrations this code knows that Postgres has not run yet (all of them on an empty database). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function pendingMigrations(db: Kysely<any>): Promise<string[]> {
  const known = await new Migrator({ db, provider }).getMigrations();
  return known.filter((migration) => migration.executedAt === undefined).map((migration) => migration.name);
}
