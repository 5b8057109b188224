import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { DependencyUnavailableError } from '../http/dependency-outage.js';
import type { Database } from './schema.js';

// bigint columns (price, amount, queue numbers) fit comfortably in a JS number here.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

/**
 * A pool of at most `maxConnections`. `connectTimeoutMs` bounds how long a query waits for a
 * connection (a new one, or a free one of the pool); without it, forever (pg's default).
 */
export function connectDatabase(url: string, options: { maxConnections?: number; connectTimeoutMs?: number } = {}): Kysely<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 10,
    ...(options.connectTimeoutMs ? { connectionTimeoutMillis: options.connectTimeoutMs } : {}),
  });
  // An idle connection that Postgres closes (a restart) is dropped by the pool; unheard, its 'error' would end the process.
  pool.on('error', () => undefined);
  // A checked-out client whose server went away errors too; its query fails on its own path.
  pool.on('connect', (client) => client.on('error', () => undefined));
  // A connection that cannot be had names Postgres, so requests answer 503 POSTGRES_UNAVAILABLE.
  const connect = () => pool.connect().catch((error: unknown) => Promise.reject(new DependencyUnavailableError('postgres', error)));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: { connect, end: () => pool.end() } }) });
}

/** Postgres error codes QuickDeal relies on. */
export const pgErrorCodes = {
  uniqueViolation: '23505',
  checkViolation: '23514',
  undefinedTable: '42P01',
  invalidSchemaName: '3F000',
} as const;

export function pgErrorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}

export function pgConstraint(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'constraint' in error
    ? String((error as { constraint: unknown }).constraint)
    : undefined;
}
