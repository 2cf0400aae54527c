import { ActivityService } from '../activity/activity.service';
import { User } from '../users/user.entity';
import { type AuthenticatedUser, BY_AN_ADMIN } from '../common/identity/authenticated-user';
import { escapeLikePattern } from '../common/like-pattern';
import { USERNAME_ANY_CASE, userReference } from '../users/dto/username';
import { ForbiddenException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import pLimit, { type LimitFunction } from 'p-limit';
import { Repository } from 'typeorm';
import { accountGoneException, ValidationProblemException } from '../common/problem';
import { CreatePostDto, ReplacePostDto, UpdatePostDto } from './dto/post-input.dto';
import { ListPostsQueryDto } from './dto/list-posts-query.dto';
import { PostResponseDto } from './dto/post-response.dto';
import { DATABASE_CONFIG, type DatabaseConfig } from '../config/configuration';
import { type Reader, Sql } from '../database/sql';
import { decodePostCursor, encodePostCursor } from './post-cursor';
import { PostEntity } from './post.entity';
import {
  deleteOwnPost,
  findPostOwner,
  findVisiblePost,
  insertPostOfLiveOwner,
  listPosts,
  type PostViewRow,
  updateOwnPost,
  type VersionCondition,
} from './posts.queries';
import { staleETag } from './if-match';

/** A post and its version, whose strong ETag (`"<version>"`) the single-post routes answer. */
export interface VersionedPost {
  post: PostResponseDto;
  version: number;
}

export interface PostPage {
  posts: PostResponseDto[];
  /** Where the next page starts; undefined when this page is the last. */
  nextCursor?: string;
}

@Injectable()
export class PostsService {
  /**
   * The list queries whose cost grows with the data (a search, a `skip`) take turns in
   * half the pool, so that ten clients asking for expensive pages at once leave the
   * other half of the connections to every other request instead of queueing it behind
   * them (test/faults/fair-share.faults-spec.ts).
   */
  private readonly expensiveListLane: LimitFunction;

  constructor(
    @InjectRepository(PostEntity) private readonly posts: Repository<PostEntity>,
    private readonly sql: Sql,
    private readonly activity: ActivityService,
    @Inject(DATABASE_CONFIG) database: DatabaseConfig,
  ) {
    this.expensiveListLane = pLimit(Math.max(1, Math.floor(database.poolSize / 2)));
  }

  /**
   * Newest first, or most votes first (`sort=top`); the viewer sees published posts and
   * their own drafts. With a cursor the page starts after it (keyset, in the same order),
   * so a deep page costs what the first one does.
   */
  async list(
    viewerId: number,
    { limit, skip, search, cursor, owner_id: ownerId, author, voted, sort: order }: ListPostsQueryDto,
  ): Promise<PostPage> {
    if (cursor && skip > 0) {
      throw new ValidationProblemException([
        {
          field: 'cursor',
          message: 'cursor and skip cannot be used together: follow the Link header, or page with skip alone',
        },
      ]);
    }
    const statement = listPosts({
      viewerId,
      limit,
      skip,
      order,
      titlePattern: search ? `%${escapeLikePattern(search)}%` : undefined,
      after: cursor ? decodePostCursor(order, cursor) : undefined,
      ownerId,
      // A name no username can be matches nobody: [].
      authorUsername: author === undefined ? undefined : USERNAME_ANY_CASE.test(author) ? author.toLowerCase() : '',
      voted: voted === undefined ? undefined : voted === 'true',
    });
    // A page may be a moment stale: a replica's, unless the viewer's own writes are not there yet.
    const query = () => this.sql.read<PostViewRow>(statement, { readerId: viewerId });
    const rows = await (search || skip > 0 ? this.expensiveListLane(query) : query());
    const last = rows.at(-1);
    return {
      posts: rows.map(toPostResponse),
      nextCursor:
        last && rows.length === limit
          ? encodePostCursor(order, { votes: last.votes, createdAtMicros: last.created_at_us, id: last.id })
          : undefined,
    };
  }

  /**
   * The id of the user a path names (`/users/{id or username}/posts`): digits only are an
   * id (422 out of range), anything else a username; 404 when no user has it.
   */
  async userIdOf(idOrUsername: string): Promise<number> {
    const reference = userReference(idOrUsername);
    const user = reference ? await this.posts.manager.findOne(User, { where: reference, select: { id: true } }) : null;
    if (!user) {
      throw new NotFoundException(
        `There is no user ${JSON.stringify(idOrUsername.slice(0, 40))}; GET /users/me gives you, GET /posts?author=... finds authors' posts.`,
      );
    }
    return user.id;
  }

  /** `GET /posts/{id}`: may be a moment stale (a replica's), but never misses the viewer's own writes. */
  async findVisible(viewerId: number, id: number): Promise<VersionedPost> {
    return this.findVisibleIn(await this.sql.reader(viewerId), viewerId, id);
  }

  /** The post as a write just left it: from the primary. */
  private findWritten(viewerId: number, id: number): Promise<VersionedPost> {
    return this.findVisibleIn(this.sql, viewerId, id);
  }

  private async findVisibleIn(reader: Reader, viewerId: number, id: number): Promise<VersionedPost> {
    const rows = await reader.rows<PostViewRow>(findVisiblePost(viewerId, id));
    if (rows.length === 0) {
      throw postNotFound(id);
    }
    return { post: toPostResponse(rows[0]), version: rows[0].version };
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

  /**
   * The owner of the post when the viewer can see it (published, or their own draft);
   * undefined when it is missing or another user's draft. What hangs off a post (its
   * comments) exists for a viewer exactly when this answers. Asked of the primary unless
   * the caller reads a replica (`Sql.reader`) for a read that may be a moment stale.
   */
  async visibleOwnerId(viewerId: number, id: number, reader: Reader = this.sql): Promise<number | undefined> {
    const [post] = await reader.rows<{ owner_id: number; published: boolean }>(findPostOwner(id));
    return post && (post.published || post.owner_id === viewerId) ? post.owner_id : undefined;
  }

  /** The owner is the caller; a caller whose account was deleted meanwhile gets 401 and no post. */
  async create(ownerId: number, { title, content, published = true }: CreatePostDto): Promise<VersionedPost> {
    const rows = await this.sql.rows<{ id: number }>(insertPostOfLiveOwner({ title, content, published, ownerId }));
    if (rows.length === 0) {
      throw accountGoneException();
    }
    return this.findWritten(ownerId, rows[0].id);
  }

  replace(callerId: number, id: number, fields: ReplacePostDto, versions: VersionCondition): Promise<VersionedPost> {
    return this.update(callerId, id, fields, versions);
  }

  /**
   * The check of If-Match (`versions`, null without one) and the write are one UPDATE, so
   * that of two editors holding the same ETag exactly one wins. The version and
   * `updated_at` move only when title, content or published really change. Only when
   * nothing was written does a second look tell 404 and 403 from 412.
   */
  async update(
    callerId: number,
    id: number,
    fields: UpdatePostDto,
    versions: VersionCondition = null,
  ): Promise<VersionedPost> {
    const { title, content, published } = fields;
    if (title === undefined && content === undefined && published === undefined) {
      throw new ValidationProblemException([
        { field: 'body', message: 'send at least one of title, content and published' },
      ]);
    }
    const written = await this.sql.affected(updateOwnPost(callerId, id, { title, content, published }, versions));
    if (written === 0) {
      await this.assertOwner(callerId, id);
      throw staleETag(id);
    }
    return this.findWritten(callerId, id);
  }

  /**
   * Deletes the post and its votes (ON DELETE CASCADE): its owner may, and so may an admin
   * (a post they can see: another user's draft stays invisible, 404). An admin's deletion
   * is recorded in the owner's activity, in the same transaction.
   */
  async remove(
    caller: Pick<AuthenticatedUser, 'id' | 'role'>,
    id: number,
    versions: VersionCondition = null,
  ): Promise<void> {
    const post = await this.posts.findOne({ where: { id }, select: { id: true, ownerId: true, published: true } });
    if (!post || (!post.published && post.ownerId !== caller.id)) {
      throw postNotFound(id);
    }
    if (post.ownerId === caller.id) {
      // The If-Match check and the deletion in one statement; nothing deleted: gone meanwhile, or another version.
      if ((await this.sql.affected(deleteOwnPost(caller.id, id, versions))) === 0) {
        await this.assertOwner(caller.id, id);
        throw staleETag(id);
      }
      return;
    }
    if (caller.role !== 'admin') {
      throw new ForbiddenException(`Only the owner of post ${id} (or an admin) may delete it.`);
    }
    await this.posts.manager.transaction(async (manager) => {
      // The owner's row first, as an account deletion takes it before its posts: no deadlock with one.
      const owner = await manager.findOne(User, {
        where: { id: post.ownerId },
        select: { id: true },
        lock: { mode: 'for_key_share' },
      });
      // Only while the post is still published: a draft is invisible to the admin (404).
      const deletion = manager.createQueryBuilder().delete().from(PostEntity).where('id = :id AND published', { id });
      if (versions !== null) {
        deletion.andWhere(versions.length > 0 ? 'version IN (:...versions)' : 'false', { versions });
      }
      const deleted = await deletion.execute();
      if (!owner) {
        throw postNotFound(id);
      }
      if (!deleted.affected) {
        const current = await manager.findOne(PostEntity, { where: { id, published: true }, select: { id: true } });
        throw current ? staleETag(id) : postNotFound(id);
      }
      await this.activity.record(manager, post.ownerId, 'post_removed_by_admin', BY_AN_ADMIN);
    });
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
}

function postNotFound(id: number): NotFoundException {
  return new NotFoundException(`There is no post with id ${id} that you can see; GET /posts lists those you can.`);
}

function toPostResponse(row: PostViewRow): PostResponseDto {
  return {
    id: row.id,
    title: row.title,
    content: row.content,
    published: row.published,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    owner_id: row.owner_id,
    owner: {
      id: row.owner_id,
      username: row.owner_username,
      email: row.owner_email,
      created_at: row.owner_created_at.toISOString(),
    },
    votes: row.votes,
    voted: row.voted,
    comments: row.comments,
  };
}
