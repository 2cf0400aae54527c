import type { Statement } from '../database/sql';

const INSERT_VOTE_ON_VISIBLE_POST = `INSERT INTO votes (user_id, post_id)
       SELECT $1, post.id FROM posts post
       WHERE post.id = $2 AND (post.published OR post.owner_id = $1)
         AND EXISTS (SELECT 1 FROM users voter WHERE voter.id = $1 FOR KEY SHARE)
       FOR KEY SHARE OF post
       ON CONFLICT DO NOTHING
       RETURNING post_id`;

/**
 * The vote, in one statement: only on a post the voter can see; the primary key
 * (user_id, post_id) with ON CONFLICT makes concurrent duplicates lose cleanly. FOR KEY
 * SHARE on the voter, then on the post (the voter's lock is an InitPlan, taken first,
 * as an account deletion takes the user before the cascade reaches the user's posts,
 * so the two cannot deadlock) makes a deletion of either, in progress or later, wait for
 * the vote or be seen by it: the foreign keys always hold. No row back: already voted,
 * the post is not there for the voter, or the voter is gone.
 */
export function insertVoteOnVisiblePost(userId: number, postId: number): Statement {
  return { name: 'votes_insert', text: INSERT_VOTE_ON_VISIBLE_POST, values: [userId, postId] };
}

const USER_EXISTS = `SELECT 1 FROM users WHERE id = $1`;

/** Whether the account still exists (a request may race its deletion). */
export function userExists(userId: number): Statement {
  return { name: 'users_exists', text: USER_EXISTS, values: [userId] };
}
