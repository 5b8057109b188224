import { randomUUID } from 'node:crypto';
import { type Generated, Kysely, type Migration, Migrator, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpoints } from '../src/profiles.js';

interface Database {
  deals: { id: string; stock: number; sold: Generated<number> };
}

// Every run works in a schema of its own, so runs and parallel test files never meet.
const schema = `test_${randomUUID().slice(0, 8)}`;
const root = new Kysely<Database>({
  dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: endpoints('test').postgresUrl, max: 4 }) }),
});
const db = root.withSchema(schema);

const migrations: Record<string, Migration> = {
  '0001_create_deals': {
    async up(migrationDb) {
      await migrationDb.schema
        .withSchema(schema)
        .createTable('deals')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('stock', 'integer', (col) => col.notNull())
        .addColumn('sold', 'integer', (col) => col.notNull().defaultTo(0))
        .addCheckConstraint('deals_sold_within_stock', sql`sold <= stock`)
        .execute();
    },
  },
};
const migrator = new Migrator({
  db: root,
  provider: { getMigrations: async () => migrations },
  migrationTableSchema: schema,
});

beforeAll(async () => {
  await root.schema.createSchema(schema).execute();
});

afterAll(async () => {
  await root.schema.dropSchema(schema).cascade().execute();
  await root.destroy();
});

describe('postgres (kysely migrations and queries)', () => {
  it('applies the migrations once', async () => {
    const first = await migrator.migrateToLatest();
    expect(first.error).toBeUndefined();
    expect(first.results).toEqual([expect.objectContaining({ migrationName: '0001_create_deals', status: 'Success' })]);
    const again = await migrator.migrateToLatest();
    expect(again.error).toBeUndefined();
    expect(again.results).toEqual([]);
  });

  it('inserts and queries through kysely, and the CHECK constraint rejects selling more than the stock', async () => {
    await db.insertInto('deals').values({ id: 'phone', stock: 2 }).execute();
    const sellOne = () =>
      db
        .updateTable('deals')
        .set((eb) => ({ sold: eb('sold', '+', 1) }))
        .where('id', '=', 'phone')
        .execute();
    await sellOne();
    await sellOne();
    await expect(sellOne()).rejects.toMatchObject({ code: '23514' }); // check_violation
    const deal = await db.selectFrom('deals').select(['stock', 'sold']).where('id', '=', 'phone').executeTakeFirstOrThrow();
    expect(deal).toEqual({ stock: 2, sold: 2 });
  });
});
