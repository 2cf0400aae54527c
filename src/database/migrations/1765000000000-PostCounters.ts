import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each post counts its votes and comments (`votes_count`, `comments_count`), so that a
 * page shows them without counting, and `GET /posts?sort=top` walks
 * `posts_votes_count_created_at_id_idx` (most votes, then newest) and stops after a page
 * instead of counting every vote of every post per request.
 *
 * Triggers keep the counts, in the transaction of the vote or comment itself, whatever
 * writes it: `POST /vote`, `PUT`/`DELETE /posts/{id}/vote`, a comment, and the cascades
 * of a post or account deletion. An insert adds one (a row trigger: the routes insert
 * one row at a time); a deletion subtracts per post what one statement deleted (a
 * statement trigger over the deleted rows: deleting a post with 10,000 votes updates
 * nothing 10,000 times). Neither touches `version` or `updated_at`: votes and comments
 * do not change a post's ETag.
 */
export class PostCounters1765000000000 implements MigrationInterface {
  name = 'PostCounters1765000000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "posts" ADD "votes_count" integer NOT NULL DEFAULT 0, ADD "comments_count" integer NOT NULL DEFAULT 0`,
    );
    await queryRunner.query(`UPDATE posts SET votes_count = counted.n
       FROM (SELECT post_id, count(*)::int AS n FROM votes GROUP BY post_id) counted WHERE posts.id = counted.post_id`);
    await queryRunner.query(`UPDATE posts SET comments_count = counted.n
       FROM (SELECT post_id, count(*)::int AS n FROM comments GROUP BY post_id) counted WHERE posts.id = counted.post_id`);

    await queryRunner.query(`CREATE FUNCTION posts_count_vote() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE posts SET votes_count = votes_count + 1 WHERE id = NEW.post_id;
        RETURN NULL;
      END $$`);
    await queryRunner.query(`CREATE FUNCTION posts_uncount_votes() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE posts SET votes_count = posts.votes_count - gone.n
          FROM (SELECT post_id, count(*)::int AS n FROM gone_votes GROUP BY post_id) gone
          WHERE posts.id = gone.post_id;
        RETURN NULL;
      END $$`);
    await queryRunner.query(`CREATE TRIGGER "votes_count_on_post" AFTER INSERT ON "votes"
      FOR EACH ROW EXECUTE FUNCTION posts_count_vote()`);
    await queryRunner.query(`CREATE TRIGGER "votes_uncount_on_posts" AFTER DELETE ON "votes"
      REFERENCING OLD TABLE AS gone_votes FOR EACH STATEMENT EXECUTE FUNCTION posts_uncount_votes()`);

    await queryRunner.query(`CREATE FUNCTION posts_count_comment() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE posts SET comments_count = comments_count + 1 WHERE id = NEW.post_id;
        RETURN NULL;
      END $$`);
    await queryRunner.query(`CREATE FUNCTION posts_uncount_comments() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE posts SET comments_count = posts.comments_count - gone.n
          FROM (SELECT post_id, count(*)::int AS n FROM gone_comments GROUP BY post_id) gone
          WHERE posts.id = gone.post_id;
        RETURN NULL;
      END $$`);
    await queryRunner.query(`CREATE TRIGGER "comments_count_on_post" AFTER INSERT ON "comments"
      FOR EACH ROW EXECUTE FUNCTION posts_count_comment()`);
    await queryRunner.query(`CREATE TRIGGER "comments_uncount_on_posts" AFTER DELETE ON "comments"
      REFERENCING OLD TABLE AS gone_comments FOR EACH STATEMENT EXECUTE FUNCTION posts_uncount_comments()`);

    await queryRunner.query(
      `CREATE INDEX "posts_votes_count_created_at_id_idx" ON "posts" ("votes_count" DESC, "created_at" DESC, "id" DESC)`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "posts_votes_count_created_at_id_idx"`);
    await queryRunner.query(`DROP TRIGGER "comments_uncount_on_posts" ON "comments"`);
    await queryRunner.query(`DROP TRIGGER "comments_count_on_post" ON "comments"`);
    await queryRunner.query(`DROP TRIGGER "votes_uncount_on_posts" ON "votes"`);
    await queryRunner.query(`DROP TRIGGER "votes_count_on_post" ON "votes"`);
    await queryRunner.query(`DROP FUNCTION posts_uncount_comments()`);
    await queryRunner.query(`DROP FUNCTION posts_count_comment()`);
    await queryRunner.query(`DROP FUNCTION posts_uncount_votes()`);
    await queryRunner.query(`DROP FUNCTION posts_count_vote()`);
    await queryRunner.query(`ALTER TABLE "posts" DROP COLUMN "comments_count", DROP COLUMN "votes_count"`);
  }
}
