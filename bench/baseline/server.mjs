// The baseline: the read routes of the posts API and its 401 path with nothing but
// fastify and pg, so `app req/s / baseline req/s` shows what NestJS, Passport,
// class-validator and TypeORM cost on top. It does the same work per request as the
// app (verify the HS256 token, load the caller with one query, one query for the data)
// and answers the same JSON, using the best SQL for each route.
//
// Environment: PORT, DATABASE_URL, JWT_SECRET (the app's), DATABASE_POOL_SIZE (the app's).
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
const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.DATABASE_POOL_SIZE ?? 10),
  application_name: 'posts-api-baseline',
});

// ---------------------------------------------------------------------------- SQL

/** The caller of a token without a session id (what the app does before sessions). */
const USER_SQL = 'SELECT id, email, created_at FROM users WHERE id = $1';
/** The caller of a token with a session id: the live session and its user in one query. */
const SESSION_USER_SQL = `SELECT u.id, u.email, u.username, u.role, u.email_verified_at IS NOT NULL AS email_verified, u.created_at
  FROM sessions s JOIN users u ON u.id = s.user_id
  WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL AND s.expires_at > now()
    AND u.disabled_at IS NULL`;

const POST_COLUMNS = 'p.id, p.title, p.content, p.published, p.created_at, p.updated_at, p.version, p.owner_id';

/**
 * The page of posts first (walking posts_created_at_id_idx and stopping after
 * skip + limit rows), then the owner and the vote count for those rows only, however
 * deep the page. `LIMIT 1` in the lateral owner lookup keeps PostgreSQL from flattening
 * it into a hash join that reads the whole users table for ten rows.
 */
function listSql(withSearch) {
  return `SELECT page.*, owner.username AS owner_username, owner.email AS owner_email, owner.created_at AS owner_created_at,
      (SELECT count(*)::int FROM votes v WHERE v.post_id = page.id) AS votes
    FROM (
      SELECT ${POST_COLUMNS} FROM posts p
      WHERE (p.published OR p.owner_id = $1)${withSearch ? ` AND p.title ILIKE $4 ESCAPE '\\'` : ''}
      ORDER BY p.created_at DESC, p.id DESC
      LIMIT $2 OFFSET $3) AS page
    CROSS JOIN LATERAL (SELECT u.username, u.email, u.created_at FROM users u WHERE u.id = page.owner_id LIMIT 1) AS owner
    ORDER BY page.created_at DESC, page.id DESC`;
}
const LIST_SQL = listSql(false);
const SEARCH_SQL = listSql(true);

const ONE_POST_SQL = `SELECT ${POST_COLUMNS}, u.username AS owner_username, u.email AS owner_email, u.created_at AS owner_created_at,
    (SELECT count(*)::int FROM votes v WHERE v.post_id = p.id) AS votes
  FROM posts p JOIN users u ON u.id = p.owner_id
  WHERE p.id = $1 AND (p.published OR p.owner_id = $2)`;

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
  const { rows } =
    payload.sid === undefined
      ? await pool.query(USER_SQL, [userId])
      : await pool.query(SESSION_USER_SQL, [payload.sid, userId]);
  if (rows.length === 0) {
    return problem(reply, 401, 'The session of this access token has ended; log in again with POST /login.', {
      'WWW-Authenticate': 'Bearer error="invalid_token"',
    });
  }
  return rows[0];
}

// ---------------------------------------------------------------------------- routes

function toPost(row) {
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
  };
}

/** An integer query parameter in [min, max], its default when absent, or NaN. */
function intParam(raw, fallback, min, max) {
  if (raw === undefined) return fallback;
  if (typeof raw !== 'string' || !/^\d{1,10}$/.test(raw)) return NaN;
  const value = Number(raw);
  return value >= min && value <= max ? value : NaN;
}

const app = Fastify({ logger: false, routerOptions: { ignoreTrailingSlash: true } });

app.get('/health', async () => {
  await pool.query('SELECT 1');
  return { status: 'ok', database: 'up' };
});

app.get('/posts', async (request, reply) => {
  const user = await authenticate(request, reply);
  if (!user) return reply;
  const { limit: rawLimit, skip: rawSkip, search = '' } = request.query;
  const limit = intParam(rawLimit, 10, 1, 100);
  const skip = intParam(rawSkip, 0, 0, MAX_ID);
  if (Number.isNaN(limit) || Number.isNaN(skip) || typeof search !== 'string' || search.length > 200) {
    return problem(reply, 422, 'limit must be 1 to 100, skip 0 or more, search at most 200 characters.');
  }
  const { rows } = search
    ? await pool.query(SEARCH_SQL, [user.id, limit, skip, `%${search.replace(/[\\%_]/g, '\\$&')}%`])
    : await pool.query(LIST_SQL, [user.id, limit, skip]);
  return rows.map(toPost);
});

app.get('/posts/:id', async (request, reply) => {
  const user = await authenticate(request, reply);
  if (!user) return reply;
  const id = intParam(request.params.id, NaN, 1, MAX_ID);
  if (Number.isNaN(id)) {
    return problem(reply, 422, 'The post id must be a positive integer.');
  }
  const { rows } = await pool.query(ONE_POST_SQL, [id, user.id]);
  if (rows.length === 0) {
    return problem(reply, 404, `There is no post with id ${id}.`);
  }
  reply.header('ETag', `"${rows[0].version}"`);
  return toPost(rows[0]);
});

async function shutdown() {
  await app.close();
  await pool.end();
  process.exit(0);
}
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);

await app.listen({ port, host: '127.0.0.1' });
