/**
 * `node operator/dist/main.js migrate`: runs the Postgres migrations and exits, 0 when Postgres holds
 * every migration (it ran the pending ones, or there were none), 1 otherwise. The chart runs it as a
 * pre-install/pre-upgrade hook Job, whose back-off retries it while Postgres is out of reach; the
 * operator itself never migrates, so an outage at its start is a condition, not a crash loop.
 */
import { ConfigError, commonConfigSchema, connectDatabase, migrateToLatest, parseConfig, type Logger } from '@quickdeal/core';

export const migrateConfigSchema = commonConfigSchema.pick({ DATABASE_URL: true, LOG_LEVEL: true });

export async function migrateMain(env: Record<string, string | undefined>, logger: Logger): Promise<number> {
  let url: string;
  try {
    const config = parseConfig(migrateConfigSchema, env);
    logger.level = config.LOG_LEVEL;
    url = config.DATABASE_URL;
  } catch (error) {
    logger.fatal(`migrate: ${error instanceof ConfigError ? error.message : String(error)}`);
    return 1;
  }
  const db = connectDatabase(url, { maxConnections: 1, connectTimeoutMs: 10_000 });
  try {
    const ran = await migrateToLatest(db);
    logger.info({ ran }, ran.length > 0 ? `ran ${ran.length} migration(s)` : 'Postgres was up to date');
    return 0;
  } catch (error) {
    logger.fatal({ err: error }, `migrate: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    await db.destroy().catch(() => undefined);
  }
}
