import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
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
   * lose cleanly, so exactly one of many parallel calls wins. FOR KEY SHARE on the post
   * and the voter makes a deletion of either, in progress or later, wait for the vote or
   * be seen by it, so the foreign keys always hold.
   */
  async addVote(userId: number, postId: number): Promise<void> {
    const inserted = await this.votes.query<unknown[]>(
      `INSERT INTO votes (user_id, post_id)
       SELECT voter.id, post.id FROM posts post, users voter
       WHERE post.id = $2 AND voter.id = $1 AND (post.published OR post.owner_id = $1)
       FOR KEY SHARE
       ON CONFLICT DO NOTHING
       RETURNING post_id`,
      [userId, postId],
    );
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
