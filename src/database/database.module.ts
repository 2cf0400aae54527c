import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DATABASE_CONFIG, type DatabaseConfig } from '../config/configuration';
import { buildDataSourceOptions } from './data-source-options';
import { DatabaseServer } from './database-server';
import { ConnectionWatchdog } from './connection-watchdog';
import { runPendingMigrations } from './migrate';
import { Sql } from './sql';

/** Past PostgreSQL's own statement_timeout, how long the client still waits for an answer. */
const CLIENT_GRACE_MS = 1_000;

@Module({
  providers: [
    {
      provide: DatabaseServer,
      inject: [DATABASE_CONFIG],
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

@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      imports: [DatabaseServerModule],
      inject: [DatabaseServer, DATABASE_CONFIG],
      useFactory: async (server: DatabaseServer, config: DatabaseConfig) => {
        await runPendingMigrations(server.url, config.connectTimeoutMs);
        return {
          ...buildDataSourceOptions(server.url, config),
          // Each feature's TypeOrmModule.forFeature([...]) brings its entities: no list here.
          autoLoadEntities: true,
          // Start-up fails fast with the reason instead of retrying for minutes.
          retryAttempts: 0,
        };
      },
    }),
  ],
  providers: [
    Sql,
    {
      provide: ConnectionWatchdog,
      inject: [Sql, DATABASE_CONFIG],
      useFactory: (sql: Sql, config: DatabaseConfig) =>
        new ConnectionWatchdog(sql.pool, config.statementTimeoutMs + CLIENT_GRACE_MS),
    },
  ],
  exports: [Sql],
})
export class DatabaseModule {}
