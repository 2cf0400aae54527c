import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool, QueryResultRow } from 'pg';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { DATABASE_CONFIG, type DatabaseConfig } from '../config/configuration';
import { recordWritePosition } from './replicas.queries';
import { Replicas, type ReplicaStatus } from './replicas';
import type { Reader, Statement } from './statement';

export { Placeholders, type Reader, type Statement } from './statement';

/**
 * The one way to run constant SQL: the statements each feature keeps in its
 * `<feature>.queries.ts` (the hot reads, and the few writes that must be one statement
 * to hold under races), straight on the pool TypeORM opened. TypeORM's query runner
 * around each statement (acquire, wrap, release) showed in profiles of the per-request
 * reads. Errors stay the driver's own (the problem filter maps connection failures to
 * 503). Every other database access goes through TypeORM repositories and transactions;
 * nothing else reaches into TypeORM's driver.
 */
@Injectable()
export class Sql implements Reader, OnApplicationShutdown {
  /** The pool of the app's DataSource (the connection watchdog watches it too). */
  readonly pool: Pool;
  /** Undefined without DATABASE_REPLICA_URLS: then `read` is `rows` and `recordWrite` does nothing. */
  private readonly replicas?: Replicas;

  constructor(@InjectDataSource() dataSource: DataSource, @Inject(DATABASE_CONFIG) config: DatabaseConfig) {
    this.pool = (dataSource.driver as PostgresDriver).master as Pool;
    if (config.replicaUrls.length > 0) {
      this.replicas = new Replicas(this.pool, {
        ...config,
        urls: config.replicaUrls,
        maxLagMs: config.replicaMaxLagMs,
      });
    }
  }

  /** On the primary: writes, the reads that rules and writes depend on, anything that must be current. */
  async rows<Row extends QueryResultRow>(statement: Statement): Promise<Row[]> {
    return (await this.pool.query<Row>(statement)).rows;
  }

  /** How many rows a write changed. */
  async affected(statement: Statement): Promise<number> {
    return (await this.pool.query(statement)).rowCount ?? 0;
  }

  /**
   * A read that may be a moment stale (a page of posts, a post, comments, a user): on a
   * read replica when one is up and has replayed every write of `readerId`, else on the
   * primary. Only a statement that no rule or write depends on belongs here.
   */
  async read<Row extends QueryResultRow>(statement: Statement, { readerId }: { readerId: number }): Promise<Row[]> {
    return (await this.reader(readerId)).rows<Row>(statement);
  }

  /** `read` for several statements of one answer: the server is chosen once, with one lookup. */
  async reader(readerId: number): Promise<Reader> {
    return this.replicas ? this.replicas.reader(readerId) : this;
  }

  /**
   * After a write of this user has committed: remembers the primary's position, so that
   * the user's next reads come from a replica only once it has replayed the write.
   * Nothing to do without replicas.
   */
  async recordWrite(userId: number): Promise<void> {
    if (this.replicas) {
      await this.pool.query(recordWritePosition(userId));
    }
  }

  get hasReplicas(): boolean {
    return this.replicas !== undefined;
  }

  /** Each replica's state, for /health/ready; undefined without replicas. */
  replicaStatuses(): ReplicaStatus[] | undefined {
    return this.replicas?.statuses();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.replicas?.close();
  }
}
