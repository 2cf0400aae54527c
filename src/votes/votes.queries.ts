import type { Statement } from '../database/sql';

const INSERT_VOTE_ON_VISIBLE_POST = `INSERT INTO votes (user_id, post_id)
       SELECT voter.id, post.id FROM posts post, users voter
       WHERE post.id = $2 AND voter.id = $1 AND (post.published OR post.owner_id = $1)
       FOR KEY SHARE
       ON CONFLICT DO NOTHING
       RETURNING post_id`;

/**
 * The vote, in one statement: only on a post the voter can see; the primary key
 * (user_id, post_id) with ON CONFLICT makes concurrent duplicates lose cleanly; FOR KEY
 * SHARE on the post and the voter makes a deletion of either, in progress or later,
 * wait for the vote or be seen by it, so the foreign keys always hold. No row back:
 * already voted, or the post is not there for the voter.
 */
export function insertVoteOnVisiblePost(userId: number, postId: number): Statement {
  return { text: INSERT_VOTE_ON_VISIBLE_POST, values: [userId, postId] };
}
