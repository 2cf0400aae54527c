import { Module } from '@nestjs/common';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { databaseConfig, type DatabaseConfig } from '../config/configuration';
import { buildDataSourceOptions } from './data-source-options';
import { DatabaseServer } from './database-server';
import { ConnectionWatchdog } from './connection-watchdog';
import { runPendingMigrations } from './migrate';

/** Past PostgreSQL's own statement_timeout, how long the client still waits for an answer. */
const CLIENT_GRACE_MS = 1_000;

@Module({
  providers: [
    {
      provide: DatabaseServer,
      inject: [databaseConfig.KEY],
      useFactory: async (config: DatabaseConfig) => {
        const server = new DatabaseServer(config);
        await server.start();
        return server;
      },
    },
  ],
  exports: [DatabaseServer],
})
class DatabaseServerModule {}

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      imports: [DatabaseServerModule],
      inject: [DatabaseServer, databaseConfig.KEY],
      useFactory: async (server: DatabaseServer, config: DatabaseConfig) => {
        await runPendingMigrations(server.url, config.connectTimeoutMs);
        return {
          ...buildDataSourceOptions(server.url, config),
          // Start-up fails fast with the reason instead of retrying for minutes.
          retryAttempts: 0,
        };
      },
    }),
  ],
  providers: [
    {
      provide: ConnectionWatchdog,
      inject: [getDataSourceToken(), databaseConfig.KEY],
      useFactory: (dataSource: DataSource, config: DatabaseConfig) =>
        new ConnectionWatchdog(
          (dataSource.driver as PostgresDriver).master as Pool,
          config.statementTimeoutMs + CLIENT_GRACE_MS,
        ),
    },
  ],
})
export class DatabaseModule {}
