import type { QueryResultRow } from 'pg';

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

/**
 * Where a request's reads run: the primary (`Sql` itself) or the replica chosen for one
 * reader (`Sql.reader`), so that the statements of one answer come from one server.
 */
export interface Reader {
  rows<Row extends QueryResultRow>(statement: Statement): Promise<Row[]>;
}

/** Numbers the placeholders of a statement built in pieces: `$1`, `$2`, ... in the order values are added. */
export class Placeholders {
  readonly values: unknown[] = [];

  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}
