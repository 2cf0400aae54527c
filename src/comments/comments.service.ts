import { ForbiddenException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { ActivityService } from '../activity/activity.service';
import { type AuthenticatedUser, BY_AN_ADMIN } from '../common/identity/authenticated-user';
import { INTEGER_ID_MAX, decodeIdCursor, encodeIdCursor } from '../common/id-cursor';
import { accountGoneException } from '../common/problem';
import { type Reader, Sql } from '../database/sql';
import { PostsService } from '../posts/posts.service';
import { User } from '../users/user.entity';
import { Comment } from './comment.entity';
import { CommentResponseDto } from './dto/comment-response.dto';
import { ListCommentsQueryDto } from './dto/list-comments-query.dto';
import { type CommentViewRow, findComment, insertCommentOnVisiblePost, listComments } from './comments.queries';

export interface CommentPage {
  comments: CommentResponseDto[];
  /** Where the next page starts; undefined when this page is the last. */
  nextCursor?: string;
}

/** A comment and the owner of its post, once the caller is known to see the post. */
interface VisibleComment {
  row: CommentViewRow;
  postOwnerId: number;
}

/** Comments on posts: a comment exists for a caller exactly when its post does. */
@Injectable()
export class CommentsService {
  constructor(
    @InjectRepository(Comment) private readonly comments: Repository<Comment>,
    private readonly posts: PostsService,
    private readonly sql: Sql,
    private readonly activity: ActivityService,
  ) {}

  /**
   * Oldest first, keyset paging by id: comments added during a walk come at its end. May
   * be a moment stale (a replica's), but never misses the viewer's own writes.
   */
  async list(viewerId: number, postId: number, { limit, cursor }: ListCommentsQueryDto): Promise<CommentPage> {
    const afterId = cursor === undefined ? 0 : Number(decodeIdCursor(cursor, INTEGER_ID_MAX));
    const reader = await this.sql.reader(viewerId);
    if ((await this.posts.visibleOwnerId(viewerId, postId, reader)) === undefined) {
      throw postNotFound(postId);
    }
    // One more than the page: whether a next page exists, without a count.
    const rows = await reader.rows<CommentViewRow>(listComments(postId, afterId, limit + 1));
    const page = rows.slice(0, limit);
    return {
      comments: page.map((row) => CommentResponseDto.from(row)),
      nextCursor: rows.length > limit ? encodeIdCursor(page[page.length - 1].id) : undefined,
    };
  }

  /** `GET /comments/{id}`: may be a moment stale (a replica's), but never misses the viewer's own writes. */
  async findVisible(viewerId: number, id: number): Promise<CommentResponseDto> {
    return CommentResponseDto.from((await this.visibleComment(viewerId, id, await this.sql.reader(viewerId))).row);
  }

  /** Any caller who sees the post may comment on it; a caller whose account was deleted meanwhile gets 401. */
  async create(authorId: number, postId: number, content: string): Promise<CommentResponseDto> {
    const rows = await this.sql.rows<CommentViewRow>(insertCommentOnVisiblePost(authorId, postId, content));
    if (rows.length === 0) {
      if (!(await this.comments.manager.existsBy(User, { id: authorId }))) {
        throw accountGoneException();
      }
      throw postNotFound(postId);
    }
    return CommentResponseDto.from(rows[0]);
  }

  /** Only the author may change the text (403 for anyone else, the post's owner and admins included). */
  async update(callerId: number, id: number, content: string): Promise<CommentResponseDto> {
    const { row } = await this.visibleComment(callerId, id);
    if (row.author_id !== callerId) {
      throw new ForbiddenException(`Only the author of comment ${id} may change it.`);
    }
    const changed = await this.comments.update({ id }, { content });
    if (!changed.affected) {
      throw commentNotFound(id);
    }
    return CommentResponseDto.from((await this.visibleComment(callerId, id)).row);
  }

  /**
   * Deletes the comment: its author may, the owner of its post may, and so may an admin;
   * others get 403. An admin's deletion of another user's comment is recorded in the
   * author's activity, in the same transaction.
   */
  async remove(caller: Pick<AuthenticatedUser, 'id' | 'role'>, id: number): Promise<void> {
    const { row, postOwnerId } = await this.visibleComment(caller.id, id);
    if (row.author_id === caller.id || postOwnerId === caller.id) {
      if (!(await this.comments.delete({ id })).affected) {
        throw commentNotFound(id);
      }
      return;
    }
    if (caller.role !== 'admin') {
      throw new ForbiddenException(
        `Only the author of comment ${id}, the owner of its post, or an admin may delete it.`,
      );
    }
    await this.comments.manager.transaction(async (manager) => {
      // The author's row first, as an account deletion takes it before its comments: no deadlock with one.
      const author = await manager.findOne(User, {
        where: { id: row.author_id },
        select: { id: true },
        lock: { mode: 'for_key_share' },
      });
      // Only while the post is still published: another user's draft is invisible to the admin (404).
      const deleted = await manager
        .createQueryBuilder()
        .delete()
        .from(Comment)
        .where('id = :id AND post_id IN (SELECT id FROM posts WHERE published)', { id })
        .execute();
      if (!author || !deleted.affected) {
        throw commentNotFound(id);
      }
      await this.activity.record(manager, row.author_id, 'comment_removed_by_admin', BY_AN_ADMIN);
    });
  }

  /**
   * The comment, when the caller sees its post; 404 otherwise (missing, or on another
   * user's draft). From the primary, as the rules of a change need it, unless a reader is given.
   */
  private async visibleComment(viewerId: number, id: number, reader: Reader = this.sql): Promise<VisibleComment> {
    const [row] = await reader.rows<CommentViewRow>(findComment(id));
    const postOwnerId = row && (await this.posts.visibleOwnerId(viewerId, row.post_id, reader));
    if (!row || postOwnerId === undefined) {
      throw commentNotFound(id);
    }
    return { row, postOwnerId };
  }
}

function postNotFound(id: number): NotFoundException {
  return new NotFoundException(`There is no post with id ${id} that you can see; GET /posts lists those you can.`);
}

function commentNotFound(id: number): NotFoundException {
  return new NotFoundException(
    `There is no comment with id ${id} on a post you can see; GET /posts/{id}/comments lists a post's comments.`,
  );
}
