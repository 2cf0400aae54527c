import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Read-your-writes with read replicas: per user, the primary's WAL position just after
 * their last committed write. A read for that user goes to a replica only once the replica
 * has replayed past it. Written and read on the primary only, and only when
 * DATABASE_REPLICA_URLS is set. One narrow row per user, updated in place (fillfactor
 * leaves room for HOT updates: the position is not indexed); deleted with the account.
 */
export class UserWritePositions1765200000000 implements MigrationInterface {
  name = 'UserWritePositions1765200000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "user_write_positions" (
      "user_id" integer NOT NULL,
      "lsn" pg_lsn NOT NULL,
      CONSTRAINT "user_write_positions_pkey" PRIMARY KEY ("user_id"),
      CONSTRAINT "user_write_positions_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE
    ) WITH (fillfactor = 50)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "user_write_positions"`);
  }
}
