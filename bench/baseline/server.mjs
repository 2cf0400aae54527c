// The baseline: the read routes of the posts API and its 401 path with nothing but
// fastify and pg, so `app req/s / baseline req/s` shows what NestJS, Passport,
// class-validator and TypeORM cost on top. It does the same work per request as the
// app (verify the HS256 token, load the caller with one query, then the statements the
// app runs for the route: one for a list or a post, a visibility check and the page for a
// post's comments, one insert for a comment) and answers the same JSON and Link
// header, using the best SQL for each route. Like the app, it sends the statements of
// these routes by name (prepared once per connection, then only bound), except a list
// with a title search, whose best plan depends on the word.
//
// With BASELINE_SESSION_LOOKUP=false ("bare") it verifies the token and takes the caller
// from its claims without any query: the cost of the session lookup left out.
//
// Environment: PORT, DATABASE_URL, JWT_SECRET (the app's), DATABASE_POOL_SIZE (the app's),
// BASELINE_SESSION_LOOKUP (true unless "false").
import { createHmac, timingSafeEqual } from 'node:crypto';
import Fastify from 'fastify';
import pg from 'pg';

const MAX_ID = 2_147_483_647;
const port = Number(process.env.PORT ?? 8001);
const secret = process.env.JWT_SECRET;
if (!secret || !process.env.DATABASE_URL) {
  console.error('baseline: JWT_SECRET and DATABASE_URL are required');
  process.exit(1);
}
const sessionLookup = process.env.BASELINE_SESSION_LOOKUP !== 'false';
const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.DATABASE_POOL_SIZE ?? 10),
  application_name: 'posts-api-baseline',
});

// ---------------------------------------------------------------------------- SQL

/**
 * Runs a statement by name when it has one (one name per text: pg refuses a name reused
 * for another text), else unnamed (parsed and planned on every call).
 */
function query(name, text, values) {
  return pool.query(name === undefined ? { text, values } : { name, text, values });
}

/** The caller of a token without a session id (what the app does before sessions). */
const USER_SQL = 'SELECT id, email, created_at FROM users WHERE id = $1';
/** The caller of a token with a session id: the live session and its user in one query. */
const SESSION_USER_SQL = `SELECT u.id, u.email, u.username, u.role, u.email_verified_at IS NOT NULL AS email_verified, u.created_at
  FROM sessions s JOIN users u ON u.id = s.user_id
  WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL AND s.expires_at > now()
    AND u.disabled_at IS NULL`;

const POST_COLUMNS =
  'p.id, p.title, p.content, p.published, p.created_at, p.updated_at, p.version, p.owner_id, p.votes_count, p.comments_count';

/**
 * What every post read adds to the post's own columns, as the app's POST_VIEW_COLUMNS:
 * `created_at` in microseconds (the Link cursor), the counts the triggers keep, and
 * whether the caller ($1) voted for it (one probe of the votes primary key).
 */
const VIEW_COLUMNS = `(extract(epoch FROM page.created_at) * 1000000)::bigint AS created_at_us,
      page.votes_count AS votes, page.comments_count AS comments,
      (SELECT mine.post_id FROM votes mine WHERE mine.user_id = $1 AND mine.post_id = page.id LIMIT 1) IS NOT NULL AS voted`;

/** The two orders of the list, each the key of one index (posts_created_at_id_idx, posts_votes_count_created_at_id_idx). */
const ORDER_KEYS = { new: ['created_at', 'id'], top: ['votes_count', 'created_at', 'id'] };

/**
 * The page of posts first (walking the index of the order and stopping after skip +
 * limit rows), then the owner and whether the caller voted, for those rows only, however
 * deep the page. `LIMIT 1` in the lateral owner lookup keeps PostgreSQL from flattening
 * it into a hash join that reads the whole users table for ten rows. $1 viewer, $2 limit,
 * $3 skip, then the search pattern and the author's username when present.
 */
function listSql({ order, withSearch, withAuthor }) {
  const orderBy = (table) => ORDER_KEYS[order].map((key) => `${table}.${key} DESC`).join(', ');
  const conditions = ['(p.published OR p.owner_id = $1)'];
  let next = 4;
  if (withSearch) conditions.push(`p.title ILIKE $${next++} ESCAPE '\\'`);
  if (withAuthor) conditions.push(`p.owner_id = (SELECT a.id FROM users a WHERE a.username = $${next++})`);
  return `SELECT page.*, owner.username AS owner_username, owner.email AS owner_email, owner.created_at AS owner_created_at,
      ${VIEW_COLUMNS}
    FROM (
      SELECT ${POST_COLUMNS} FROM posts p
      WHERE ${conditions.join(' AND ')}
      ORDER BY ${orderBy('p')}
      LIMIT $2 OFFSET $3) AS page
    CROSS JOIN LATERAL (SELECT u.username, u.email, u.created_at FROM users u WHERE u.id = page.owner_id LIMIT 1) AS owner
    ORDER BY ${orderBy('page')}`;
}
/**
 * The statements by `<order>:<search?>:<author?>`, built once: `{ name, text }`, named
 * as the app names its list statements, none with a title search (as the app).
 */
const LIST_SQL = new Map();
for (const order of Object.keys(ORDER_KEYS)) {
  for (const withSearch of [false, true]) {
    for (const withAuthor of [false, true]) {
      LIST_SQL.set(`${order}:${withSearch}:${withAuthor}`, {
        name: withSearch ? undefined : `posts_list_${order}${withAuthor ? '_author' : ''}`,
        text: listSql({ order, withSearch, withAuthor }),
      });
    }
  }
}

const ONE_POST_SQL = `SELECT page.*, u.username AS owner_username, u.email AS owner_email, u.created_at AS owner_created_at,
    ${VIEW_COLUMNS}
  FROM posts page JOIN users u ON u.id = page.owner_id
  WHERE page.id = $2 AND (page.published OR page.owner_id = $1)`;

/** Whether the caller sees the post: the app checks this before it reads the post's comments. */
const VISIBLE_POST_SQL = 'SELECT 1 FROM posts WHERE id = $1 AND (published OR owner_id = $2)';

const COMMENT_COLUMNS = `c.id, c.post_id, c.content, c.created_at, c.updated_at, c.author_id,
    a.username AS author_username, a.email AS author_email, a.created_at AS author_created_at`;

/** A page of a post's comments, oldest first, after a comment id: a range of comments_post_id_id_idx. */
const COMMENTS_SQL = `SELECT ${COMMENT_COLUMNS}
  FROM comments c JOIN users a ON a.id = c.author_id
  WHERE c.post_id = $1 AND c.id > $2
  ORDER BY c.post_id, c.id LIMIT $3`;

/**
 * The app's one statement for a new comment: only on a post the author sees, with the
 * author's and the post's rows held FOR KEY SHARE; no row back when either is missing.
 */
const INSERT_COMMENT_SQL = `WITH inserted AS (
    INSERT INTO comments (post_id, author_id, content)
    SELECT post.id, $1, $3 FROM posts post
    WHERE post.id = $2 AND (post.published OR post.owner_id = $1)
      AND EXISTS (SELECT 1 FROM users writer WHERE writer.id = $1 FOR KEY SHARE)
    FOR KEY SHARE OF post
    RETURNING *)
  SELECT ${COMMENT_COLUMNS}
  FROM inserted c JOIN users a ON a.id = c.author_id`;

/** Whether the caller still exists: only asked after a comment could not be written (401 or 404). */
const USER_EXISTS_SQL = 'SELECT 1 FROM users WHERE id = $1';

// --------------------------------------------------------------------------- tokens

const key = Buffer.from(secret, 'utf8');

function base64urlJson(part) {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

/** The claims of a valid HS256 token signed with our secret, or undefined. */
function verifyToken(token) {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  let header;
  let payload;
  try {
    header = base64urlJson(parts[0]);
    payload = base64urlJson(parts[1]);
  } catch {
    return undefined;
  }
  // Only HS256: no `none`, no algorithm confusion.
  if (header?.alg !== 'HS256') return undefined;
  const expected = createHmac('sha256', key).update(`${parts[0]}.${parts[1]}`).digest();
  const given = Buffer.from(parts[2], 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  if (typeof payload?.exp !== 'number' || payload.exp * 1000 <= Date.now()) return undefined;
  return payload;
}

function problem(reply, status, detail, headers = {}) {
  const titles = { 401: 'Unauthorized', 404: 'Not Found', 422: 'Unprocessable Entity', 503: 'Service Unavailable' };
  reply
    .code(status)
    .headers(headers)
    .type('application/problem+json; charset=utf-8')
    .send(JSON.stringify({ type: 'about:blank', title: titles[status], status, detail }));
  return undefined;
}

const NO_TOKEN_DETAIL =
  'This route needs a bearer token: send the header "Authorization: Bearer <access_token>" with the access_token that POST /login returns.';

/** The caller, or undefined after answering 401 (the same checks and the same one query as the app's guard). */
async function authenticate(request, reply) {
  const header = request.headers.authorization;
  if (typeof header !== 'string' || !header.startsWith('Bearer ')) {
    return problem(reply, 401, NO_TOKEN_DETAIL, { 'WWW-Authenticate': 'Bearer' });
  }
  const payload = verifyToken(header.slice(7).trim());
  const userId = typeof payload?.sub === 'string' && /^[1-9][0-9]{0,9}$/.test(payload.sub) ? Number(payload.sub) : NaN;
  if (!payload || !(userId <= MAX_ID)) {
    return problem(reply, 401, 'The access token is not valid; log in again with POST /login for a new one.', {
      'WWW-Authenticate': 'Bearer error="invalid_token"',
    });
  }
  if (!sessionLookup) {
    // Bare: the claims are the caller; no query (nothing below needs more than the id).
    return { id: userId };
  }
  const { rows } =
    payload.sid === undefined
      ? await query('users_find', USER_SQL, [userId])
      : await query('sessions_find_live_user', SESSION_USER_SQL, [payload.sid, userId]);
  if (rows.length === 0) {
    return problem(reply, 401, 'The session of this access token has ended; log in again with POST /login.', {
      'WWW-Authenticate': 'Bearer error="invalid_token"',
    });
  }
  return rows[0];
}

// ---------------------------------------------------------------------------- routes

function toUser(id, username, email, createdAt) {
  return { id, username, email, created_at: createdAt.toISOString() };
}

function toPost(row) {
  return {
    id: row.id,
    title: row.title,
    content: row.content,
    published: row.published,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    owner_id: row.owner_id,
    owner: toUser(row.owner_id, row.owner_username, row.owner_email, row.owner_created_at),
    votes: row.votes,
    voted: row.voted,
    comments: row.comments,
  };
}

function toComment(row) {
  return {
    id: row.id,
    post_id: row.post_id,
    content: row.content,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    author: toUser(row.author_id, row.author_username, row.author_email, row.author_created_at),
  };
}

/** An integer query parameter in [min, max], its default when absent, or NaN. */
function intParam(raw, fallback, min, max) {
  if (raw === undefined) return fallback;
  if (typeof raw !== 'string' || !/^\d{1,10}$/.test(raw)) return NaN;
  const value = Number(raw);
  return value >= min && value <= max ? value : NaN;
}

/** Length in code points, as PostgreSQL counts varchar(n) (and the app's validation). */
function codePoints(text) {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** The app's username rule: anything else cannot be a username and matches nobody. */
const USERNAME_ANY_CASE = /^[A-Za-z][A-Za-z0-9_]{2,29}$/;

/** The `Link` header of the next page, as the app writes it: the same query, continued from the cursor. */
function nextPageLink(path, query, cursor) {
  const parameters = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== '' && name !== 'cursor') parameters.set(name, String(value));
  }
  parameters.set('cursor', cursor);
  return `<${path}?${parameters.toString()}>; rel="next"`;
}

/** The post cursor of the app (`<us>.<id>`, `top.<votes>.<us>.<id>`), base64url. */
function postCursor(order, row) {
  const key = `${row.created_at_us}.${row.id}`;
  return Buffer.from(order === 'top' ? `top.${row.votes}.${key}` : key, 'utf8').toString('base64url');
}

/** The comment cursor of the app (`i<id>`), base64url; and back (NaN when it is not one). */
const commentCursor = (id) => Buffer.from(`i${id}`, 'utf8').toString('base64url');
function afterCommentId(cursor) {
  if (cursor === undefined) return 0;
  const match = typeof cursor === 'string' && /^i([1-9][0-9]{0,9})$/.exec(Buffer.from(cursor, 'base64url').toString());
  return match && Number(match[1]) <= MAX_ID ? Number(match[1]) : NaN;
}

const app = Fastify({ logger: false, routerOptions: { ignoreTrailingSlash: true } });

app.get('/health', async () => {
  await pool.query('SELECT 1');
  return { status: 'ok', database: 'up' };
});

app.get('/posts', async (request, reply) => {
  const user = await authenticate(request, reply);
  if (!user) return reply;
  const { limit: rawLimit, skip: rawSkip, search = '', sort = 'new', author } = request.query;
  const limit = intParam(rawLimit, 10, 1, 100);
  const skip = intParam(rawSkip, 0, 0, 10_000);
  if (
    Number.isNaN(limit) ||
    Number.isNaN(skip) ||
    typeof search !== 'string' ||
    codePoints(search) > 200 ||
    !Object.hasOwn(ORDER_KEYS, sort) ||
    (author !== undefined && (typeof author !== 'string' || author === '' || codePoints(author) > 254))
  ) {
    return problem(
      reply,
      422,
      'limit must be 1 to 100, skip 0 to 10000, search at most 200 characters, sort new or top, author 1 to 254 characters.',
    );
  }
  const values = [user.id, limit, skip];
  if (search) values.push(`%${search.replace(/[\\%_]/g, '\\$&')}%`);
  if (author !== undefined) values.push(USERNAME_ANY_CASE.test(author) ? author.toLowerCase() : '');
  const statement = LIST_SQL.get(`${sort}:${Boolean(search)}:${author !== undefined}`);
  const { rows } = await query(statement.name, statement.text, values);
  if (rows.length === limit) {
    // The app's next-page URL: limit, then sort (when top), search and author; never skip.
    const next = { limit, sort: sort === 'top' ? sort : undefined, search, author };
    reply.header('Link', nextPageLink('/posts', next, postCursor(sort, rows[rows.length - 1])));
  }
  return rows.map(toPost);
});

/** The post id of the path, or undefined after answering 422. */
function postIdParam(request, reply) {
  const id = intParam(request.params.id, NaN, 1, MAX_ID);
  if (Number.isNaN(id)) {
    return problem(reply, 422, 'The post id must be a positive integer.');
  }
  return id;
}

const postNotFound = (reply, id) =>
  problem(reply, 404, `There is no post with id ${id} that you can see; GET /posts lists those you can.`);

app.get('/posts/:id', async (request, reply) => {
  const user = await authenticate(request, reply);
  if (!user) return reply;
  const id = postIdParam(request, reply);
  if (id === undefined) return reply;
  const { rows } = await query('posts_find_visible', ONE_POST_SQL, [user.id, id]);
  if (rows.length === 0) {
    return problem(reply, 404, `There is no post with id ${id}.`);
  }
  reply.header('ETag', `"${rows[0].version}"`);
  return toPost(rows[0]);
});

app.get('/posts/:id/comments', async (request, reply) => {
  const user = await authenticate(request, reply);
  if (!user) return reply;
  const id = postIdParam(request, reply);
  if (id === undefined) return reply;
  const limit = intParam(request.query.limit, 20, 1, 100);
  const afterId = afterCommentId(request.query.cursor);
  if (Number.isNaN(limit) || Number.isNaN(afterId)) {
    return problem(reply, 422, 'limit must be 1 to 100, cursor one from the Link header.');
  }
  // The app's two statements: is the post there for the caller, then the page.
  if ((await query('posts_visibility', VISIBLE_POST_SQL, [id, user.id])).rows.length === 0) {
    return postNotFound(reply, id);
  }
  // One more than the page: whether a next page exists, without a count.
  const { rows } = await query('comments_list', COMMENTS_SQL, [id, afterId, limit + 1]);
  if (rows.length > limit) {
    reply.header('Link', nextPageLink(`/posts/${id}/comments`, { limit }, commentCursor(rows[limit - 1].id)));
    rows.length = limit;
  }
  return rows.map(toComment);
});

app.post('/posts/:id/comments', async (request, reply) => {
  const user = await authenticate(request, reply);
  if (!user) return reply;
  const id = postIdParam(request, reply);
  if (id === undefined) return reply;
  const raw = request.body?.content;
  const content = typeof raw === 'string' ? raw.trim() : undefined;
  if (content === undefined || content === '' || codePoints(content) > 2000) {
    return problem(reply, 422, 'content must be 1 to 2000 characters after trimming');
  }
  const { rows } = await query('comments_insert', INSERT_COMMENT_SQL, [user.id, id, content]);
  if (rows.length === 0) {
    if ((await query('users_exists', USER_EXISTS_SQL, [user.id])).rows.length === 0) {
      return problem(reply, 401, 'The account of this access token no longer exists; nothing was changed.', {
        'WWW-Authenticate': 'Bearer error="invalid_token"',
      });
    }
    return postNotFound(reply, id);
  }
  reply.code(201).header('Location', `/comments/${rows[0].id}`);
  return toComment(rows[0]);
});

async function shutdown() {
  await app.close();
  await pool.end();
  process.exit(0);
}
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);

await app.listen({ port, host: '127.0.0.1' });
