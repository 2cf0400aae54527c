import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from './data-source-options';

/** Any constant of our own: the advisory lock that lets one instance migrate at a time. */
const MIGRATION_LOCK_KEY = 7_316_504_281;

/**
 * Runs the pending migrations before the app opens its pool. Instances starting at
 * the same time take turns on a PostgreSQL advisory lock, so only the first applies
 * them and the others find nothing left to do. Migrations may build indexes on big
 * tables, so this connection has no statement timeout.
 */
export async function runPendingMigrations(url: string, connectTimeoutMs: number): Promise<void> {
  const logger = new Logger('Migrations');
  const dataSource = new DataSource({
    ...buildDataSourceOptions(url, { poolSize: 1, statementTimeoutMs: 0, connectTimeoutMs }),
    // Reported below through the app's logger instead of TypeORM's console output.
    logging: false,
  });
  await dataSource.initialize();
  try {
    // One connection in the pool: the lock and the migrations share the same session.
    await dataSource.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      const applied = await dataSource.runMigrations();
      if (applied.length > 0) {
        logger.log(`Applied ${applied.length} migration(s): ${applied.map((migration) => migration.name).join(', ')}`);
      }
    } finally {
      await dataSource.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await dataSource.destroy();
  }
}
