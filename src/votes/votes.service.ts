import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { FOREIGN_KEY_VIOLATION, isPostgresError } from '../database/postgres-errors';
import { PostsService } from '../posts/posts.service';
import { Vote } from './vote.entity';

@Injectable()
export class VotesService {
  constructor(
    @InjectRepository(Vote) private readonly votes: Repository<Vote>,
    private readonly posts: PostsService,
  ) {}

  /**
   * Adds the vote in one statement: it inserts only for a post the voter can see, and
   * the primary key (user_id, post_id) with ON CONFLICT makes concurrent duplicates
   * lose cleanly, so exactly one of many parallel calls wins.
   */
  async addVote(userId: number, postId: number): Promise<void> {
    let inserted: unknown[];
    try {
      inserted = await this.votes.query(
        `INSERT INTO votes (user_id, post_id)
         SELECT $1, post.id FROM posts post
         WHERE post.id = $2 AND (post.published OR post.owner_id = $1)
         ON CONFLICT DO NOTHING
         RETURNING post_id`,
        [userId, postId],
      );
    } catch (error) {
      // The post was deleted between the SELECT and the foreign key check.
      if (isPostgresError(error, FOREIGN_KEY_VIOLATION)) {
        throw new NotFoundException(
          `There is no post with id ${postId} that you can see; GET /posts lists those you can.`,
        );
      }
      throw error;
    }
    if (inserted.length === 0) {
      await this.posts.assertVisible(userId, postId);
      throw new ConflictException(`You have already voted on post ${postId}; send dir 0 to remove your vote.`);
    }
  }

  async removeVote(userId: number, postId: number): Promise<void> {
    await this.posts.assertVisible(userId, postId);
    const result = await this.votes.delete({ userId, postId });
    if (!result.affected) {
      throw new NotFoundException(`You have not voted on post ${postId}; send dir 1 to vote.`);
    }
  }
}
