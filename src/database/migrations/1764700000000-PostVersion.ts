import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A post's version (its strong ETag, `"<version>"`) and when it last changed: both move
 * with every change of its title, content or published flag, never with its votes or
 * comments. Existing posts start at version 1, changed when they were written.
 */
export class PostVersion1764700000000 implements MigrationInterface {
  name = 'PostVersion1764700000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "posts" ADD "version" integer NOT NULL DEFAULT 1`);
    await queryRunner.query(`ALTER TABLE "posts" ADD "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now()`);
    await queryRunner.query(`UPDATE "posts" SET "updated_at" = "created_at"`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "posts" DROP COLUMN "updated_at"`);
    await queryRunner.query(`ALTER TABLE "posts" DROP COLUMN "version"`);
  }
}
