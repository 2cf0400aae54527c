import { Placeholders, type Statement } from '../database/sql';

// The post reads are constant SQL rather than query builders: building the SQL took
// about 8% of the CPU of an authenticated GET (profiled under autocannon).

/**
 * A post as the API shows it, with its owner, its counts and whether the viewer voted
 * for it. Every statement that selects POST_VIEW_COLUMNS binds the viewer's id as $1.
 */
export interface PostViewRow {
  id: number;
  title: string;
  content: string;
  published: boolean;
  created_at: Date;
  updated_at: Date;
  /** The post's version: its ETag is `"<version>"`. */
  version: number;
  /** `created_at` in microseconds since the epoch (bigint, as text): exact, for cursors. */
  created_at_us: string;
  owner_id: number;
  owner_username: string | null;
  owner_email: string;
  owner_created_at: Date;
  votes: number;
  comments: number;
  /** Whether the viewer has voted for it. */
  voted: boolean;
}

const POST_VIEW_COLUMNS = `
  page.id, page.title, page.content, page.published, page.created_at, page.updated_at, page.version,
  page.owner_id,
  (extract(epoch FROM page.created_at) * 1000000)::bigint AS created_at_us,
  owner.username AS owner_username, owner.email AS owner_email, owner.created_at AS owner_created_at,
  page.votes_count AS votes, page.comments_count AS comments,
  -- (No apostrophes in these comments: bench:scale pairs quotes to compare texts.)
  -- A scalar subquery with LIMIT 1, never hashed: one probe of votes_pkey per post of the
  -- page. As EXISTS, PostgreSQL sometimes read all the votes of the viewer into a hash first.
  (SELECT mine.post_id FROM votes mine WHERE mine.user_id = $1 AND mine.post_id = page.id LIMIT 1) IS NOT NULL AS voted`;

/** The two orders of the list, each the key of one index (see the migrations). */
export type PostOrder = 'new' | 'top';

const ORDER_KEYS: Record<PostOrder, string[]> = {
  new: ['created_at', 'id'],
  top: ['votes_count', 'created_at', 'id'],
};

export interface ListPostsParameters {
  viewerId: number;
  limit: number;
  skip: number;
  /** `new` (the default): newest first; `top`: most votes first, then newest. */
  order?: PostOrder;
  /** A LIKE pattern, already escaped (see `escapeLikePattern`). */
  titlePattern?: string;
  /** Only posts after this one in the list order (keyset paging); `votes` for the `top` order. */
  after?: { votes?: number; createdAtMicros: string; id: number };
  /** Only this owner's posts. */
  ownerId?: number;
  /** Only the posts of the user with this (lower-case) username. */
  authorUsername?: string;
  /** Only the posts the viewer voted for (true) or did not (false). */
  voted?: boolean;
}

/**
 * A page of the list of the posts the viewer sees (published ones and their own drafts),
 * newest first or, for `top`, most votes first and then newest. The page is picked from
 * the posts alone (the order is the key of an index: the scan stops after the page), then
 * joined to its owners. `npm run bench:scale` EXPLAINs this same statement.
 */
export function listPosts({
  viewerId,
  limit,
  skip,
  order = 'new',
  titlePattern,
  after,
  ownerId,
  authorUsername,
  voted,
}: ListPostsParameters): Statement {
  const $ = new Placeholders();
  const viewer = $.add(viewerId);
  const conditions = [`(post.published OR post.owner_id = ${viewer})`];
  const [limitAt, skipAt] = [$.add(limit), $.add(skip)];
  if (titlePattern !== undefined) {
    conditions.push(`post.title ILIKE ${$.add(titlePattern)} ESCAPE '\\'`);
  }
  if (ownerId !== undefined) {
    conditions.push(`post.owner_id = ${$.add(ownerId)}`);
  }
  if (authorUsername !== undefined) {
    // One user at most (usernames are unique); then a range of posts_owner_id_created_at_id_idx.
    conditions.push(
      `post.owner_id = (SELECT author.id FROM users author WHERE author.username = ${$.add(authorUsername)})`,
    );
  }
  if (voted !== undefined) {
    conditions.push(
      `${voted ? '' : 'NOT '}EXISTS (SELECT 1 FROM votes mine WHERE mine.post_id = post.id AND mine.user_id = ${viewer})`,
    );
  }
  const keys = ORDER_KEYS[order];
  if (after) {
    const createdAt = `timestamptz 'epoch' + ${$.add(after.createdAtMicros)}::bigint * interval '1 microsecond'`;
    const bound =
      order === 'top' ? [$.add(after.votes ?? 0), createdAt, $.add(after.id)] : [createdAt, $.add(after.id)];
    // A row comparison in the index's key order: the scan starts right after the cursor.
    conditions.push(`(${keys.map((key) => `post.${key}`).join(', ')}) < (${bound.join(', ')})`);
  }
  const orderBy = (table: string) => keys.map((key) => `${table}.${key} DESC`).join(', ');
  return {
    // One name per shape of the statement (which conditions it has); none with a title search.
    name:
      titlePattern === undefined
        ? `posts_list_${order}${ownerId === undefined ? '' : '_owner'}${authorUsername === undefined ? '' : '_author'}` +
          `${voted === undefined ? '' : voted ? '_voted' : '_not_voted'}${after ? '_after' : ''}`
        : undefined,
    text: `SELECT ${POST_VIEW_COLUMNS}
       FROM (SELECT post.* FROM posts post WHERE ${conditions.join(' AND ')}
             ORDER BY ${orderBy('post')} LIMIT ${limitAt} OFFSET ${skipAt}) page
       -- LIMIT 1 keeps PostgreSQL from turning the owners into a hash join over all users
       -- (seen with 1,000 users: a sequential scan of users for a page of ten).
       CROSS JOIN LATERAL (SELECT username, email, created_at FROM users owner
                           WHERE owner.id = page.owner_id LIMIT 1) owner
       ORDER BY ${orderBy('page')}`,
    values: $.values,
  };
}

const FIND_VISIBLE_POST = `SELECT ${POST_VIEW_COLUMNS}
       FROM posts page JOIN users owner ON owner.id = page.owner_id
       WHERE page.id = $2 AND (page.published OR page.owner_id = $1)`;

/** One post, if the viewer sees it. */
export function findVisiblePost(viewerId: number, id: number): Statement {
  return { name: 'posts_find_visible', text: FIND_VISIBLE_POST, values: [viewerId, id] };
}

const FIND_POST_OWNER = `SELECT owner_id, published FROM posts WHERE id = $1`;

/** Whose a post is and whether it is published: what decides who sees what hangs off it. */
export function findPostOwner(id: number): Statement {
  return { name: 'posts_find_owner', text: FIND_POST_OWNER, values: [id] };
}

const INSERT_POST_OF_LIVE_OWNER = `INSERT INTO posts (title, content, published, owner_id)
       SELECT $1, $2, $3, id FROM users WHERE id = $4 FOR KEY SHARE
       RETURNING id`;

/**
 * Writes a post only while its owner exists, in one statement: FOR KEY SHARE on the
 * owner's row waits for an account deletion in progress and then sees it (no row, no
 * post), and holds a later deletion off until the post exists, so that the deletion
 * takes the post along. No row back: the owner is gone.
 */
export function insertPostOfLiveOwner(post: {
  title: string;
  content: string;
  published: boolean;
  ownerId: number;
}): Statement {
  return {
    name: 'posts_insert',
    text: INSERT_POST_OF_LIVE_OWNER,
    values: [post.title, post.content, post.published, post.ownerId],
  };
}

/**
 * The version condition of a conditional write: `null` for none (no If-Match, or `*`),
 * else the versions any of which may be current (none at all: the write cannot happen).
 */
export type VersionCondition = number[] | null;

const UPDATE_OWN_POST = `UPDATE posts SET
         title = COALESCE($3::varchar, title),
         content = COALESCE($4::text, content),
         published = COALESCE($5::boolean, published),
         version = CASE WHEN (title, content, published) IS DISTINCT FROM
             (COALESCE($3::varchar, title), COALESCE($4::text, content), COALESCE($5::boolean, published))
           THEN version + 1 ELSE version END,
         updated_at = CASE WHEN (title, content, published) IS DISTINCT FROM
             (COALESCE($3::varchar, title), COALESCE($4::text, content), COALESCE($5::boolean, published))
           THEN now() ELSE updated_at END
       WHERE id = $1 AND owner_id = $2 AND ($6::integer[] IS NULL OR version = ANY($6::integer[]))
       RETURNING id`;

/**
 * Changes the caller's own post, in one statement with its If-Match check, so that of two
 * writers holding the same version only one can win. The version and `updated_at` move
 * only when title, content or published really change (a PATCH that changes nothing keeps
 * both). No row back: not the caller's post, missing, or the version did not match.
 */
export function updateOwnPost(
  callerId: number,
  id: number,
  fields: { title?: string; content?: string; published?: boolean },
  versions: VersionCondition,
): Statement {
  return {
    name: 'posts_update_own',
    text: UPDATE_OWN_POST,
    values: [id, callerId, fields.title ?? null, fields.content ?? null, fields.published ?? null, versions],
  };
}

const DELETE_OWN_POST = `DELETE FROM posts
       WHERE id = $1 AND owner_id = $2 AND ($3::integer[] IS NULL OR version = ANY($3::integer[]))
       RETURNING id`;

/** Deletes the caller's own post with its If-Match check, in one statement. No row back: nothing deleted. */
export function deleteOwnPost(callerId: number, id: number, versions: VersionCondition): Statement {
  return { name: 'posts_delete_own', text: DELETE_OWN_POST, values: [id, callerId, versions] };
}
