import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The admins' `search` of users is a substring match of the e-mail or the username
 * (LIKE '%text%'): trigram indexes let PostgreSQL find the matches without reading the
 * whole users table.
 */
export class AdminSearchTrigramIndexes1764500000000 implements MigrationInterface {
  name = 'AdminSearchTrigramIndexes1764500000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE EXTENSION IF NOT EXISTS pg_trgm`);
    await queryRunner.query(`CREATE INDEX "users_email_trgm_idx" ON "users" USING gin (lower("email") gin_trgm_ops)`);
    await queryRunner.query(`CREATE INDEX "users_username_trgm_idx" ON "users" USING gin ("username" gin_trgm_ops)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "users_username_trgm_idx"`);
    await queryRunner.query(`DROP INDEX "users_email_trgm_idx"`);
  }
}
