import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `search` is a substring match (ILIKE '%text%'), which a b-tree cannot serve: a trigram
 * index lets PostgreSQL find the matching titles without reading the whole table.
 */
export class PostTitleTrigramIndex1764000000000 implements MigrationInterface {
  name = 'PostTitleTrigramIndex1764000000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE EXTENSION IF NOT EXISTS pg_trgm`);
    await queryRunner.query(`CREATE INDEX "posts_title_trgm_idx" ON "posts" USING gin ("title" gin_trgm_ops)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "posts_title_trgm_idx"`);
  }
}
