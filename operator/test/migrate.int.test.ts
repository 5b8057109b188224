/**
 * `main.ts migrate`, the command the chart's hook Job runs, against the test profile's Postgres:
 * on an empty database of its own it creates every table, a second run changes nothing, and a
 * Postgres out of reach exits 1 with a line that says so (the Job's back-off retries).
 */
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stateDir } from '@quickdeal/dev/paths';
import { endpoints } from '@quickdeal/dev/profiles';
import { freePort, nodeEntry, startProcess, uniqueName } from '@quickdeal/dev/testing';

const database = uniqueName('qd_migrate').replace(/-/g, '_');
const postgresUrl = endpoints('test').postgresUrl;
const emptyDatabaseUrl = postgresUrl.replace(/\/quickdeal$/, `/${database}`);
// The server's superuser, over its own socket (trusted there), may create a database; the quickdeal role may not.
const superuser = () =>
  new pg.Client({
    host: join(stateDir('test'), 'postgres-socket'),
    port: Number(new URL(postgresUrl).port),
    user: 'postgres',
    database: 'postgres',
  });

async function asSuperuser(statement: string): Promise<void> {
  const client = superuser();
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  await asSuperuser(`create database ${database} owner quickdeal`);
});

afterAll(async () => {
  await asSuperuser(`drop database if exists ${database} with (force)`);
});

async function migrate(databaseUrl: string) {
  const [node, args] = nodeEntry('operator/src/main.ts');
  const run = startProcess(node, [...args, 'migrate'], { DATABASE_URL: databaseUrl, LOG_LEVEL: 'info' });
  return { code: await run.exited, output: run.output() };
}

async function tables(): Promise<string[]> {
  const client = new pg.Client({ connectionString: emptyDatabaseUrl });
  await client.connect();
  try {
    const result = await client.query<{ table_name: string }>(
      "select table_name from information_schema.tables where table_schema = 'public' order by table_name",
    );
    return result.rows.map((row) => row.table_name);
  } finally {
    await client.end();
  }
}

describe('the migrate command', () => {
  it('creates every table in an empty database, then finds nothing to do', async () => {
    expect(await tables()).toEqual([]);
    const first = await migrate(emptyDatabaseUrl);
    expect(first.code, first.output).toBe(0);
    expect(first.output).toContain('ran 3 migration(s)');
    expect(await tables()).toEqual(['deals', 'kysely_migration', 'kysely_migration_lock', 'orders', 'payments']);

    const again = await migrate(emptyDatabaseUrl);
    expect(again.code, again.output).toBe(0);
    expect(again.output).toContain('Postgres was up to date');
  }, 60_000);

  it('exits 1 naming the problem when Postgres is out of reach, so the Job retries', async () => {
    const nowhere = `postgres://quickdeal:quickdeal@127.0.0.1:${await freePort()}/quickdeal`;
    const result = await migrate(nowhere);
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/migrate: .*(ECONNREFUSED|postgres is unavailable)/);
  }, 60_000);

  it('exits 1 naming the variable when DATABASE_URL is not a Postgres URL', async () => {
    const result = await migrate('mysql://somewhere/db');
    expect(result.code).toBe(1);
    expect(result.output).toContain('DATABASE_URL');
  }, 60_000);
});
