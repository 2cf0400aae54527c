import { Logger, OnApplicationShutdown } from '@nestjs/common';
import type { DatabaseConfig } from '../config/configuration';
import { EmbeddedPostgres } from './embedded-postgres';

/**
 * Where the database is: DATABASE_URL, or an embedded PostgreSQL this process starts
 * under the data folder and stops when the app shuts down.
 */
export class DatabaseServer implements OnApplicationShutdown {
  private readonly logger = new Logger(DatabaseServer.name);
  private embedded?: EmbeddedPostgres;
  private connectionUrl?: string;

  constructor(private readonly config: DatabaseConfig) {}

  get url(): string {
    if (!this.connectionUrl) {
      throw new Error('DatabaseServer.start() has not run');
    }
    return this.connectionUrl;
  }

  get isEmbedded(): boolean {
    return this.embedded !== undefined;
  }

  async start(): Promise<void> {
    if (this.config.url) {
      this.connectionUrl = this.config.url;
      return;
    }
    this.embedded = new EmbeddedPostgres({
      dataDir: this.config.dataDir,
      log: (line) => this.logger.verbose(line),
    });
    const startedAt = Date.now();
    this.connectionUrl = await this.embedded.start();
    const port = new URL(this.connectionUrl).port;
    this.logger.log(
      `Embedded PostgreSQL started on 127.0.0.1:${port} in ${Date.now() - startedAt} ms (data in ${this.config.dataDir})`,
    );
  }

  // Runs after TypeORM has closed its pool: this module is imported below TypeOrmCoreModule.
  async onApplicationShutdown(): Promise<void> {
    if (this.embedded) {
      await this.embedded.stop();
      this.embedded = undefined;
      this.logger.log('Embedded PostgreSQL stopped');
    }
  }
}
