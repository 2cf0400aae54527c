import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * At most one unused token per account and purpose: issuing a token spends the older
 * one under a lock of the account's row, and this index makes that a rule of the table.
 */
export class OneUnusedAccountToken1764400000000 implements MigrationInterface {
  name = 'OneUnusedAccountToken1764400000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    // Any older duplicates (from before this rule) are spent, newest kept.
    await queryRunner.query(`UPDATE "account_tokens" t SET "used_at" = now()
      WHERE "used_at" IS NULL AND EXISTS (SELECT 1 FROM "account_tokens" n
        WHERE n."user_id" = t."user_id" AND n."purpose" = t."purpose" AND n."used_at" IS NULL AND n."id" > t."id")`);
    await queryRunner.query(`DROP INDEX "account_tokens_unused"`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "account_tokens_one_unused" ON "account_tokens" ("user_id", "purpose") WHERE used_at IS NULL`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "account_tokens_one_unused"`);
    await queryRunner.query(
      `CREATE INDEX "account_tokens_unused" ON "account_tokens" ("user_id", "purpose") WHERE used_at IS NULL`,
    );
  }
}
