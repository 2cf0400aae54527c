import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { databaseConfig, type DatabaseConfig } from '../config/configuration';
import { buildDataSourceOptions } from './data-source-options';
import { DatabaseServer } from './database-server';
import { runPendingMigrations } from './migrate';

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
})
export class DatabaseModule {}
