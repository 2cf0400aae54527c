import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `users.credential_version` counts the changes of a user's credentials: a login
 * creates its session only while the version its password check saw is still current,
 * so a login racing a password change never yields a working session.
 * `sessions.rotated_at` says when the previous refresh token was spent, for the grace
 * window in which presenting it again is a lost race between two tabs, not theft.
 */
export class CredentialVersionAndRefreshGrace1764100000000 implements MigrationInterface {
  name = 'CredentialVersionAndRefreshGrace1764100000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "users" ADD "credential_version" integer NOT NULL DEFAULT 1`);
    await queryRunner.query(`ALTER TABLE "sessions" ADD "rotated_at" TIMESTAMP WITH TIME ZONE`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "sessions" DROP COLUMN "rotated_at"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "credential_version"`);
  }
}
