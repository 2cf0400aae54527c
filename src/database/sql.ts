import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool, QueryResultRow } from 'pg';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

/** One SQL statement and its parameters, as a `<feature>.queries.ts` builds it. */
export interface Statement {
  text: string;
  values: unknown[];
  /**
   * Set on the statements of every request's path: each connection parses and plans a
   * named statement once and then only binds it (a prepared statement). One name, one
   * text (pg refuses a name reused for another text). Left out where the best plan
   * depends on the values (a title search: the trigram index for a rare word, the list's
   * order for a common one), so PostgreSQL plans those per call.
   */
  name?: string;
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

  async rows<Row extends QueryResultRow>(statement: Statement): Promise<Row[]> {
    return (await this.pool.query<Row>(statement)).rows;
  }

  /** How many rows a write changed. */
  async affected(statement: Statement): Promise<number> {
    return (await this.pool.query(statement)).rowCount ?? 0;
  }
}
