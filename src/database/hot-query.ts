import type { Pool, QueryResultRow } from 'pg';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

/**
 * Runs one constant statement straight on the pool TypeORM opened, for the queries every
 * authenticated request makes (session check, post reads). TypeORM's query runner around
 * each statement (acquire, wrap, release) showed in profiles of these paths; errors stay
 * the driver's own (the problem filter maps connection failures to 503).
 */
export async function hotQuery<Row extends QueryResultRow>(
  dataSource: DataSource,
  text: string,
  values: unknown[],
): Promise<Row[]> {
  const pool = (dataSource.driver as PostgresDriver).master as Pool;
  return (await pool.query<Row>(text, values)).rows;
}
