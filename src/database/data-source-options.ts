import { join } from 'node:path';
import { DataSourceOptions } from 'typeorm';
import { TYPE_PARSERS } from './type-parsers';
/**
 * Every entity of every feature, for the TypeORM CLI (`ormconfig.ts`): .ts on the sources,
 * .js in the build. The app itself registers them with `autoLoadEntities` instead (each
 * feature module's `TypeOrmModule.forFeature`), so this folder imports no feature.
 */
export const ENTITY_FILES = join(__dirname, '..', '**', '*.entity.{ts,js}');

export interface ConnectionLimits {
  poolSize: number;
  /** PostgreSQL cancels a statement after this long (`statement_timeout`); 0 for no limit. */
  statementTimeoutMs: number;
  /** Longest wait for a new connection or for a free one in the pool. */
  connectTimeoutMs: number;
}

const DEFAULT_LIMITS: ConnectionLimits = { poolSize: 10, statementTimeoutMs: 5_000, connectTimeoutMs: 3_000 };

/** The one description of the database, shared by the app and the TypeORM CLI (`ormconfig.ts`). */
export function buildDataSourceOptions(
  url: string,
  limits: ConnectionLimits = DEFAULT_LIMITS,
  entities: string[] = [],
): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities,
    // .ts under Jest and the CLI on sources, .js in the build.
    migrations: [join(__dirname, 'migrations', '*.{ts,js}')],
    migrationsTableName: 'migrations',
    synchronize: false,
    // Never 'error' or 'query': TypeORM would log the query parameters, password hashes included.
    logging: ['migration'],
    extra: poolSettings(limits),
  };
}

/** The settings of a pg pool: the primary's (TypeORM's `extra`) and each read replica's. */
export function poolSettings(limits: ConnectionLimits) {
  return {
    max: limits.poolSize,
    connectionTimeoutMillis: limits.connectTimeoutMs,
    // Idle connections stay 5 minutes (pg's default is 10 s): a new one authenticates with
    // SCRAM (PBKDF2 in libuv's thread pool), which queued behind bcrypt during a login burst
    // until it timed out; the benchmark's POST /login scenario answered 2-12 of ~250 with 503.
    idleTimeoutMillis: 300_000,
    ...(limits.statementTimeoutMs > 0 && {
      statement_timeout: limits.statementTimeoutMs,
      // A transaction left open by a stuck client must not hold its locks for ever.
      idle_in_transaction_session_timeout: limits.statementTimeoutMs * 2,
      // The client's own bound, for a server that stops answering without closing its
      // sockets, is the app's ConnectionWatchdog (not pg's per-query query_timeout).
    }),
    keepAlive: true,
    application_name: 'posts-api',
    types: TYPE_PARSERS,
  };
}
