import type { Statement } from '../database/sql';

/** A comment as the API shows it, with its author. */
export interface CommentViewRow {
  id: number;
  post_id: number;
  content: string;
  created_at: Date;
  updated_at: Date;
  author_id: number;
  author_username: string | null;
  author_email: string;
  author_created_at: Date;
}

const COMMENT_VIEW_COLUMNS = `
  comment.id, comment.post_id, comment.content, comment.created_at, comment.updated_at, comment.author_id,
  author.username AS author_username, author.email AS author_email, author.created_at AS author_created_at`;

const LIST_COMMENTS = `SELECT ${COMMENT_VIEW_COLUMNS}
       FROM comments comment JOIN users author ON author.id = comment.author_id
       WHERE comment.post_id = $1 AND comment.id > $2
       ORDER BY comment.post_id, comment.id LIMIT $3`;

/**
 * A page of a post's comments, oldest first (by id: the order they were written in),
 * after the comment `afterId` (0: from the first). A range of `comments_post_id_id_idx`,
 * so a deep page costs what the first one does, and comments added meanwhile come at
 * the end of the walk. The ORDER BY names the index's whole key (post_id, id): ordered by
 * id alone, PostgreSQL was seen walking comments_pkey through every comment when the
 * post held a large share of them.
 */
export function listComments(postId: number, afterId: number, limit: number): Statement {
  return { name: 'comments_list', text: LIST_COMMENTS, values: [postId, afterId, limit] };
}

const FIND_COMMENT = `SELECT ${COMMENT_VIEW_COLUMNS}
       FROM comments comment JOIN users author ON author.id = comment.author_id
       WHERE comment.id = $1`;

/** One comment, whoever may see it (the service asks the posts whether the caller may). */
export function findComment(id: number): Statement {
  return { name: 'comments_find', text: FIND_COMMENT, values: [id] };
}

const INSERT_COMMENT_ON_VISIBLE_POST = `WITH inserted AS (
         INSERT INTO comments (post_id, author_id, content)
         SELECT post.id, $1, $3 FROM posts post
         WHERE post.id = $2 AND (post.published OR post.owner_id = $1)
           AND EXISTS (SELECT 1 FROM users writer WHERE writer.id = $1 FOR KEY SHARE)
         FOR KEY SHARE OF post
         RETURNING *)
       SELECT ${COMMENT_VIEW_COLUMNS}
       FROM inserted comment JOIN users author ON author.id = comment.author_id`;

/**
 * The comment, in one statement, as the vote is (see `insertVoteOnVisiblePost`): only on
 * a post the author can see (published, or their own draft: the rule of
 * `PostsService.visibleOwnerId`); FOR KEY SHARE on the author, then on the post, makes a
 * deletion of either, in progress or later, wait for the comment or be seen by it, so
 * the comment never outlives them and a race ends as 201 or 404, never as a foreign-key
 * error. No row back: the post is not there for the author, or the author is gone.
 */
export function insertCommentOnVisiblePost(authorId: number, postId: number, content: string): Statement {
  return { name: 'comments_insert', text: INSERT_COMMENT_ON_VISIBLE_POST, values: [authorId, postId, content] };
}
