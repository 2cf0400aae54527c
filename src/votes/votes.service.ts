import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { PostsService } from '../posts/posts.service';
import { accountGoneException } from '../common/problem';
import { Sql } from '../database/sql';
import { Vote } from './vote.entity';
import { insertVoteOnVisiblePost, userExists } from './votes.queries';

@Injectable()
export class VotesService {
  constructor(
    @InjectRepository(Vote) private readonly votes: Repository<Vote>,
    private readonly posts: PostsService,
    private readonly sql: Sql,
  ) {}

  /** Adds the vote (see `insertVoteOnVisiblePost`): exactly one of many parallel calls wins. */
  async addVote(userId: number, postId: number): Promise<void> {
    const inserted = await this.sql.rows(insertVoteOnVisiblePost(userId, postId));
    if (inserted.length === 0) {
      if ((await this.sql.rows(userExists(userId))).length === 0) {
        throw accountGoneException();
      }
      await this.posts.assertVisible(userId, postId);
      throw new ConflictException(`You have already voted on post ${postId}; send dir 0 to remove your vote.`);
    }
  }

  /** `PUT /posts/{id}/vote`: the vote exists afterwards, new or not. */
  async ensureVote(userId: number, postId: number): Promise<void> {
    const inserted = await this.sql.rows(insertVoteOnVisiblePost(userId, postId));
    if (inserted.length === 0) {
      if ((await this.sql.rows(userExists(userId))).length === 0) {
        throw accountGoneException();
      }
      // Not inserted: the post is invisible (404), or the vote was there already (done).
      await this.posts.assertVisible(userId, postId);
    }
  }

  /** `DELETE /posts/{id}/vote`: no vote afterwards, whether there was one or not. */
  async ensureNoVote(userId: number, postId: number): Promise<void> {
    await this.posts.assertVisible(userId, postId);
    await this.votes.delete({ userId, postId });
  }

  async removeVote(userId: number, postId: number): Promise<void> {
    await this.posts.assertVisible(userId, postId);
    const result = await this.votes.delete({ userId, postId });
    if (!result.affected) {
      throw new NotFoundException(`You have not voted on post ${postId}; send dir 1 to vote.`);
    }
  }
}
