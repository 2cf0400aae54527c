import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Idempotency keys of `POST /posts`, `POST /vote` and `POST /posts/{id}/comments`: one row
 * per user and key, claimed by the first request and holding its answer once it completed,
 * so that every instance replays it. Deleted with the account (ON DELETE CASCADE; the
 * primary key, which starts with `user_id`, serves the cascade) and hourly 24 hours after
 * the claim.
 */
export class IdempotencyKeys1764900000000 implements MigrationInterface {
  name = 'IdempotencyKeys1764900000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "idempotency_keys" (
      "user_id" integer NOT NULL,
      "key" character varying(255) NOT NULL,
      "request_hash" character(64) NOT NULL,
      "status_code" smallint,
      "response_body" text,
      "location" character varying(2048),
      "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
      "completed_at" TIMESTAMP WITH TIME ZONE,
      CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY ("user_id", "key"),
      CONSTRAINT "idempotency_keys_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE
    )`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "idempotency_keys"`);
  }
}
