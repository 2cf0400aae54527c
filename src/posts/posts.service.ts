import { ForbiddenException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository, SelectQueryBuilder } from 'typeorm';
import { ValidationProblemException } from '../common/problem';
import { Vote } from '../votes/vote.entity';
import { CreatePostDto, ReplacePostDto, UpdatePostDto } from './dto/post-input.dto';
import { ListPostsQueryDto } from './dto/list-posts-query.dto';
import { PostResponseDto } from './dto/post-response.dto';
import { Post } from './post.entity';

interface PostViewRow {
  id: number;
  title: string;
  content: string;
  published: boolean;
  created_at: Date;
  owner_id: number;
  owner_email: string;
  owner_created_at: Date;
  votes: number;
}

/** `%`, `_` and `\` match themselves in the search, not as LIKE wildcards. */
export function escapeLikePattern(text: string): string {
  return text.replace(/[\\%_]/g, (character) => `\\${character}`);
}

@Injectable()
export class PostsService {
  constructor(@InjectRepository(Post) private readonly posts: Repository<Post>) {}

  /** Newest first; the viewer sees published posts and their own drafts. */
  async list(viewerId: number, { limit, skip, search }: ListPostsQueryDto): Promise<PostResponseDto[]> {
    const query = this.visiblePostViews(viewerId)
      .orderBy('post.created_at', 'DESC')
      .addOrderBy('post.id', 'DESC')
      .limit(limit)
      .offset(skip);
    if (search) {
      query.andWhere(`post.title ILIKE :pattern ESCAPE '\\'`, { pattern: `%${escapeLikePattern(search)}%` });
    }
    return (await query.getRawMany<PostViewRow>()).map(toPostResponse);
  }

  async findVisible(viewerId: number, id: number): Promise<PostResponseDto> {
    const row = await this.visiblePostViews(viewerId).andWhere('post.id = :id', { id }).getRawOne<PostViewRow>();
    if (!row) {
      throw postNotFound(id);
    }
    return toPostResponse(row);
  }

  /** Throws 404 when the post does not exist for this viewer (missing, or another user's draft). */
  async assertVisible(viewerId: number, id: number): Promise<void> {
    const visible = await this.posts
      .createQueryBuilder('post')
      .where('post.id = :id', { id })
      .andWhere('(post.published OR post.owner_id = :viewerId)', { viewerId })
      .getExists();
    if (!visible) {
      throw postNotFound(id);
    }
  }

  async create(ownerId: number, { title, content, published = true }: CreatePostDto): Promise<PostResponseDto> {
    const post = this.posts.create({ title, content, published, ownerId });
    await this.posts.insert(post);
    return this.findVisible(ownerId, post.id);
  }

  replace(callerId: number, id: number, fields: ReplacePostDto): Promise<PostResponseDto> {
    return this.update(callerId, id, fields);
  }

  async update(callerId: number, id: number, fields: UpdatePostDto): Promise<PostResponseDto> {
    const changes = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
    if (Object.keys(changes).length === 0) {
      throw new ValidationProblemException([
        { field: 'body', message: 'send at least one of title, content and published' },
      ]);
    }
    await this.assertOwner(callerId, id);
    await this.posts.update({ id }, changes);
    return this.findVisible(callerId, id);
  }

  async remove(callerId: number, id: number): Promise<void> {
    await this.assertOwner(callerId, id);
    // The votes go with it (ON DELETE CASCADE).
    await this.posts.delete({ id });
  }

  /** 404 when the caller cannot see the post, 403 when they see it but do not own it. */
  private async assertOwner(callerId: number, id: number): Promise<void> {
    const post = await this.posts.findOne({ where: { id }, select: { id: true, ownerId: true, published: true } });
    if (!post || (!post.published && post.ownerId !== callerId)) {
      throw postNotFound(id);
    }
    if (post.ownerId !== callerId) {
      throw new ForbiddenException(`Only the owner of post ${id} may change or delete it.`);
    }
  }

  /** One row per post with its owner and vote count; the count reads only this post's votes. */
  private visiblePostViews(viewerId: number): SelectQueryBuilder<Post> {
    return this.posts
      .createQueryBuilder('post')
      .innerJoin('post.owner', 'owner')
      .select([])
      .addSelect('post.id', 'id')
      .addSelect('post.title', 'title')
      .addSelect('post.content', 'content')
      .addSelect('post.published', 'published')
      .addSelect('post.created_at', 'created_at')
      .addSelect('post.owner_id', 'owner_id')
      .addSelect('owner.email', 'owner_email')
      .addSelect('owner.created_at', 'owner_created_at')
      .addSelect((votes) => votes.select('count(*)::int').from(Vote, 'vote').where('vote.post_id = post.id'), 'votes')
      .where('(post.published OR post.owner_id = :viewerId)', { viewerId });
  }
}

function postNotFound(id: number): NotFoundException {
  return new NotFoundException(`There is no post with id ${id}.`);
}

function toPostResponse(row: PostViewRow): PostResponseDto {
  return {
    id: row.id,
    title: row.title,
    content: row.content,
    published: row.published,
    created_at: row.created_at.toISOString(),
    owner_id: row.owner_id,
    owner: { id: row.owner_id, email: row.owner_email, created_at: row.owner_created_at.toISOString() },
    votes: row.votes,
  };
}
