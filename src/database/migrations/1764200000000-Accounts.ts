import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Accounts a person can recover: a `username` (null until set), whether the e-mail is
 * verified, a `role`; single-use tokens kept only as SHA-256 hashes; password-reset
 * requests waiting to be turned into mails; and the outbox of mails to send.
 */
export class Accounts1764200000000 implements MigrationInterface {
  name = 'Accounts1764200000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "users" ADD "username" character varying(30)`);
    await queryRunner.query(
      `ALTER TABLE "users" ADD CONSTRAINT "users_username_format" CHECK (username ~ '^[a-z][a-z0-9_]{2,29}$')`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "users_username_key" ON "users" ("username")`);
    await queryRunner.query(`ALTER TABLE "users" ADD "email_verified_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(
      `ALTER TABLE "users" ADD "role" character varying(16) NOT NULL DEFAULT 'user' CONSTRAINT "users_role_known" CHECK (role IN ('user', 'admin'))`,
    );

    await queryRunner.query(`CREATE TABLE "account_tokens" (
      "id" SERIAL NOT NULL,
      "user_id" integer NOT NULL,
      "purpose" character varying(32) NOT NULL,
      "token_hash" character(64) NOT NULL,
      "email" character varying(254) NOT NULL,
      "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
      "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
      "used_at" TIMESTAMP WITH TIME ZONE,
      CONSTRAINT "account_tokens_pkey" PRIMARY KEY ("id"),
      CONSTRAINT "account_tokens_purpose_known" CHECK (purpose IN ('email_verification', 'password_reset')),
      CONSTRAINT "account_tokens_user_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE
    )`);
    await queryRunner.query(`CREATE UNIQUE INDEX "account_tokens_token_hash_key" ON "account_tokens" ("token_hash")`);
    await queryRunner.query(
      `CREATE INDEX "account_tokens_unused" ON "account_tokens" ("user_id", "purpose") WHERE used_at IS NULL`,
    );

    await queryRunner.query(`CREATE TABLE "password_reset_requests" (
      "id" BIGSERIAL NOT NULL,
      "email" character varying(254) NOT NULL,
      "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
      CONSTRAINT "password_reset_requests_pkey" PRIMARY KEY ("id")
    )`);

    await queryRunner.query(`CREATE TABLE "mail_outbox" (
      "id" BIGSERIAL NOT NULL,
      "recipient" character varying(254) NOT NULL,
      "subject" character varying(200) NOT NULL,
      "text_body" text,
      "html_body" text,
      "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
      "next_attempt_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
      "attempts" integer NOT NULL DEFAULT 0,
      "last_error" character varying(500),
      "sent_at" TIMESTAMP WITH TIME ZONE,
      "failed_at" TIMESTAMP WITH TIME ZONE,
      CONSTRAINT "mail_outbox_pkey" PRIMARY KEY ("id")
    )`);
    await queryRunner.query(
      `CREATE INDEX "mail_outbox_due" ON "mail_outbox" ("next_attempt_at") WHERE sent_at IS NULL AND failed_at IS NULL`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "mail_outbox"`);
    await queryRunner.query(`DROP TABLE "password_reset_requests"`);
    await queryRunner.query(`DROP TABLE "account_tokens"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "role"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "email_verified_at"`);
    await queryRunner.query(`DROP INDEX "users_username_key"`);
    await queryRunner.query(`ALTER TABLE "users" DROP CONSTRAINT "users_username_format"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "username"`);
  }
}
