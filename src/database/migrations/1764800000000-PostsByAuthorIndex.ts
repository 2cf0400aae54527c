import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An author's posts in the list order (`GET /posts?owner_id=`, `?author=`,
 * `/users/{id}/posts`): (owner_id, created_at DESC, id DESC) walks one author's posts
 * newest first and stops after a page. It also serves the foreign key, so the index on
 * owner_id alone goes.
 */
export class PostsByAuthorIndex1764800000000 implements MigrationInterface {
  name = 'PostsByAuthorIndex1764800000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX "posts_owner_id_created_at_id_idx" ON "posts" ("owner_id", "created_at" DESC, "id" DESC)`,
    );
    await queryRunner.query(`DROP INDEX "posts_owner_id_idx"`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "posts_owner_id_idx" ON "posts" ("owner_id")`);
    await queryRunner.query(`DROP INDEX "posts_owner_id_created_at_id_idx"`);
  }
}
