import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Moderation and security activity: `users.disabled_at` (a disabled account cannot log
 * in), an index on `role` (a role change locks the admins' rows), the activity events every
 * user can read about their own account, and where a password-reset request came from
 * (for its event).
 */
export class RolesAndActivity1764300000000 implements MigrationInterface {
  name = 'RolesAndActivity1764300000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "users" ADD "disabled_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`CREATE INDEX "users_role_idx" ON "users" ("role")`);
    await queryRunner.query(`ALTER TABLE "password_reset_requests" ADD "ip" character varying(64)`);
    await queryRunner.query(`ALTER TABLE "password_reset_requests" ADD "user_agent" character varying(512)`);
    await queryRunner.query(`CREATE TABLE "activity_events" (
      "id" BIGSERIAL NOT NULL,
      "user_id" integer NOT NULL,
      "type" character varying(40) NOT NULL,
      "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
      "ip" character varying(64),
      "user_agent" character varying(512),
      "session_id" integer,
      CONSTRAINT "activity_events_pkey" PRIMARY KEY ("id"),
      CONSTRAINT "activity_events_user_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE
    )`);
    await queryRunner.query(`CREATE INDEX "activity_events_user_id_idx" ON "activity_events" ("user_id", "id") `);
    await queryRunner.query(`CREATE INDEX "activity_events_created_at_idx" ON "activity_events" ("created_at") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "activity_events"`);
    await queryRunner.query(`ALTER TABLE "password_reset_requests" DROP COLUMN "user_agent"`);
    await queryRunner.query(`ALTER TABLE "password_reset_requests" DROP COLUMN "ip"`);
    await queryRunner.query(`DROP INDEX "users_role_idx"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "disabled_at"`);
  }
}
