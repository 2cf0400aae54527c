import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import type { DatabaseConfig } from '../config/configuration';
import { parseLsn, describeUrl } from './replicas';
import { Sql, type Statement } from './sql';

/** A primary pool that answers every query with no rows and remembers what it was asked. */
function fakePrimary(answer: (statement: Statement) => unknown[] = () => []) {
  const asked: Statement[] = [];
  const pool = {
    query: jest.fn((statement: Statement) => {
      asked.push(statement);
      return Promise.resolve({ rows: answer(statement), rowCount: 0 });
    }),
  };
  const dataSource = { driver: { master: pool as unknown as Pool } } as unknown as DataSource;
  return { dataSource, asked };
}

const LIMITS = { poolSize: 2, statementTimeoutMs: 1_000, connectTimeoutMs: 500, dataDir: '/tmp', url: undefined };
const withoutReplicas = { ...LIMITS, replicaUrls: [], replicaMaxLagMs: 1_000 } as DatabaseConfig;
const PAGE: Statement = { name: 'page', text: 'SELECT 1', values: [] };

describe('Sql without DATABASE_REPLICA_URLS', () => {
  it('runs a read on the primary and nothing else', async () => {
    const { dataSource, asked } = fakePrimary(() => [{ id: 1 }]);
    const sql = new Sql(dataSource, withoutReplicas);
    expect(await sql.read(PAGE, { readerId: 7 })).toEqual([{ id: 1 }]);
    expect(asked).toEqual([PAGE]);
    expect(await sql.reader(7)).toBe(sql);
  });

  it('records no write position and reports no replicas', async () => {
    const { dataSource, asked } = fakePrimary();
    const sql = new Sql(dataSource, withoutReplicas);
    await sql.recordWrite(7);
    expect(asked).toEqual([]);
    expect(sql.hasReplicas).toBe(false);
    expect(sql.replicaStatuses()).toBeUndefined();
    await sql.onApplicationShutdown();
  });
});

describe('Sql with a replica that does not answer', () => {
  it('reads the primary without looking up the reader, and says the replica is down', async () => {
    const { dataSource, asked } = fakePrimary((statement) =>
      statement.text.includes('pg_current_wal_lsn') ? [{ lsn: '0/1000' }] : [{ id: 1 }],
    );
    // Port 9 (discard) refuses connections on a test machine.
    const sql = new Sql(dataSource, {
      ...withoutReplicas,
      replicaUrls: ['postgres://reader:s3cret@127.0.0.1:9/posts'],
    });
    try {
      expect(sql.replicaStatuses()).toEqual([{ url: '127.0.0.1:9/posts', state: 'down' }]);
      expect(await sql.read(PAGE, { readerId: 7 })).toEqual([{ id: 1 }]);
      expect(asked.filter((statement) => !statement.text.includes('pg_current_wal_lsn'))).toEqual([PAGE]);
      await sql.recordWrite(7);
      expect(asked.at(-1)?.name).toBe('replicas_record_write');
    } finally {
      await sql.onApplicationShutdown();
    }
  });
});

describe('parseLsn', () => {
  it('orders WAL positions as PostgreSQL does', () => {
    expect(parseLsn('0/16B3748')).toBe(0x16b3748n);
    expect(parseLsn('1/0') > parseLsn('0/FFFFFFFF')).toBe(true);
    expect(parseLsn('16/B374D848')).toBe((0x16n << 32n) | 0xb374d848n);
  });
});

describe('describeUrl', () => {
  it('names host, port and database, never the credentials', () => {
    expect(describeUrl('postgres://posts:secret@db-replica-1:5433/posts?sslmode=require')).toBe(
      'db-replica-1:5433/posts',
    );
    expect(describeUrl('postgresql://db/posts')).toBe('db:5432/posts');
  });
});
