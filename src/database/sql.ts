import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool, QueryResultRow } from 'pg';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

/** One SQL statement and its parameters, as a `<feature>.queries.ts` builds it. */
export interface Statement {
  text: string;
  values: unknown[];
}

/** Numbers the placeholders of a statement built in pieces: `$1`, `$2`, ... in the order values are added. */
export class Placeholders {
  readonly values: unknown[] = [];

  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

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
export class Sql {
  /** The pool of the app's DataSource (the connection watchdog watches it too). */
  readonly pool: Pool;

  constructor(@InjectDataSource() dataSource: DataSource) {
    this.pool = (dataSource.driver as PostgresDriver).master as Pool;
  }

  async rows<Row extends QueryResultRow>({ text, values }: Statement): Promise<Row[]> {
    return (await this.pool.query<Row>(text, values)).rows;
  }

  /** How many rows a write changed. */
  async affected({ text, values }: Statement): Promise<number> {
    return (await this.pool.query(text, values)).rowCount ?? 0;
  }
}
