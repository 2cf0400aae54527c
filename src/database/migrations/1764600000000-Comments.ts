import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Comments on posts: deleted with their post and with their author's account (ON DELETE
 * CASCADE). A post's comments are listed oldest first by id, a range of
 * `comments_post_id_id_idx`; `comments_author_id_idx` serves the cascade of an account
 * deletion.
 */
export class Comments1764600000000 implements MigrationInterface {
  name = 'Comments1764600000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "comments" (
      "id" SERIAL NOT NULL,
      "post_id" integer NOT NULL,
      "author_id" integer NOT NULL,
      "content" character varying(2000) NOT NULL,
      "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
      "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
      CONSTRAINT "comments_pkey" PRIMARY KEY ("id"),
      CONSTRAINT "comments_post_id_fkey" FOREIGN KEY ("post_id") REFERENCES "posts"("id") ON DELETE CASCADE,
      CONSTRAINT "comments_author_id_fkey" FOREIGN KEY ("author_id") REFERENCES "users"("id") ON DELETE CASCADE
    )`);
    await queryRunner.query(`CREATE INDEX "comments_post_id_id_idx" ON "comments" ("post_id", "id")`);
    await queryRunner.query(`CREATE INDEX "comments_author_id_idx" ON "comments" ("author_id")`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "comments"`);
  }
}
