// What the database did per request in a scenario, from pg_stat_statements: how many
// statements each request cost, their time, and the heaviest ones. This is the
// evidence for "the app is slower because it sends more / slower queries" (or not).
import pg from 'pg';
import { onCleanup } from './cleanup.mjs';

/** The library to preload in an embedded server (it can only be loaded at start). */
export const PRELOAD_FLAGS = ['-c', 'shared_preload_libraries=pg_stat_statements'];

/**
 * Returns `{ reset(), read(requests) }`, or undefined when the server does not offer
 * pg_stat_statements (an external server without it preloaded): the run goes on
 * without the columns.
 */
export async function openStatementStats(url) {
  const client = new pg.Client({ connectionString: url, application_name: 'posts-api-bench-stats' });
  client.on('error', () => {}); // idle between scenarios: see withClient in database.mjs
  await client.connect();
  onCleanup('close the statistics connection', () => client.end());
  try {
    await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await client.query('SELECT pg_stat_statements_reset()');
  } catch (error) {
    console.warn(`note: no per-request database statistics (${error.message})`);
    return undefined;
  }
  return {
    reset: () => client.query('SELECT pg_stat_statements_reset()'),
    read: (requests) => read(client, requests),
  };
}

async function read(client, requests) {
  const { rows } = await client.query(`
    SELECT query, calls::int AS calls, total_exec_time AS ms, rows::int AS rows
    FROM pg_stat_statements
    WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND query NOT LIKE '%pg_stat_statements%'
    ORDER BY total_exec_time DESC`);
  const perRequest = (value) => (requests > 0 ? Math.round((value / requests) * 100) / 100 : 0);
  const calls = rows.reduce((sum, row) => sum + row.calls, 0);
  const ms = rows.reduce((sum, row) => sum + row.ms, 0);
  return {
    queriesPerRequest: perRequest(calls),
    dbMsPerRequest: perRequest(ms),
    top: rows.slice(0, 4).map((row) => ({
      query: row.query.replace(/\s+/g, ' ').trim(),
      callsPerRequest: perRequest(row.calls),
      meanMs: Math.round((row.ms / Math.max(1, row.calls)) * 1000) / 1000,
      rowsPerCall: Math.round((row.rows / Math.max(1, row.calls)) * 10) / 10,
    })),
  };
}
