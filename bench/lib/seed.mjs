// Seeds users, posts and votes straight through SQL: a few INSERT ... SELECT
// generate_series statements do in seconds what the API would need hours for.
import { withClient } from './database.mjs';

/**
 * Title and content words. No word contains another one, so a search for one word
 * matches only titles that use it: with about 4.5 words per title from these 40,
 * a given word is in roughly 11% of the titles.
 */
export const WORDS = [
  'garden',
  'river',
  'coffee',
  'winter',
  'summer',
  'mountain',
  'city',
  'bread',
  'music',
  'train',
  'ocean',
  'forest',
  'kitchen',
  'bicycle',
  'library',
  'market',
  'sunset',
  'journey',
  'festival',
  'island',
  'recipe',
  'camera',
  'planet',
  'history',
  'science',
  'football',
  'painting',
  'lantern',
  'harbor',
  'meadow',
  'thunder',
  'violin',
  'desert',
  'village',
  'bridge',
  'orchard',
  'canyon',
  'pepper',
  'tulip',
  'glacier',
];

export const BENCH_PASSWORD = 'bench-password-0123';

/** The e-mail of bench user `n` (1-based); `tag` keeps runs apart on a shared database. */
export function benchEmail(tag, n) {
  return `bench-${tag}-${n}@example.com`;
}

/** The comments of the one post the comments-page scenarios read (besides `sizes.comments` scattered ones). */
export const HOT_POST_COMMENTS = 200;

/** The username of bench user `n` (1-based): `GET /posts?author=` finds their posts. */
export function benchUsername(tag, n) {
  return `b_${tag}_${n}`;
}

/**
 * Inserts `sizes.users` users (all with `passwordHash`, each with a username),
 * `sizes.posts` posts, `sizes.votes` distinct votes and `sizes.comments` comments
 * (plus HOT_POST_COMMENTS on `hotPost`, the first published post), sets each post's
 * vote and comment counts, then VACUUM ANALYZE so the planner knows the sizes.
 * Returns the id ranges (each statement's ids are contiguous), the hot post and the timings.
 */
export async function seed(url, { sizes, passwordHash, tag }) {
  return withClient(url, async (client) => {
    const timings = {};
    const timed = async (name, work) => {
      const startedAt = performance.now();
      const result = await work();
      timings[name] = Math.round(performance.now() - startedAt);
      return result;
    };
    // The same data on every run of the same sizes.
    await client.query('SELECT setseed(0.42)');

    const users = await timed('users', () => insertUsers(client, sizes.users, passwordHash, tag));
    const indexes = await timed('dropIndexes', () => dropSecondaryIndexes(client, BULK_TABLES));
    const posts = await timed('posts', () =>
      withoutForeignKeyChecks(client, () => insertPosts(client, sizes.posts, users)),
    );
    await timed('votes', () => withoutForeignKeyChecks(client, () => insertVotes(client, sizes.votes, users, posts)));
    const commented = await timed('comments', () =>
      withoutForeignKeyChecks(client, () => insertComments(client, sizes.comments ?? 0, users, posts)),
    );
    await timed('checkReferences', () => checkReferences(client));
    await timed('counts', () => countVotesAndComments(client));
    await timed('createIndexes', () => createIndexes(client, indexes));
    await timed('vacuumAnalyze', () => client.query('VACUUM (ANALYZE) users, posts, votes, comments'));
    timings.total = Object.values(timings).reduce((a, b) => a + b, 0);
    return { users, posts, hotPost: commented.hotPost, timings };
  });
}

/** The tables the seed fills in bulk. */
const BULK_TABLES = ['posts', 'votes', 'comments'];

/**
 * Drops the indexes of `tables` that back no constraint (their primary keys stay) and
 * returns their definitions. Bulk loading into a table without its secondary indexes and
 * building them afterwards is PostgreSQL's own advice ("Populating a Database"): at
 * 10,000,000 posts and 50,000,000 votes, keeping six indexes up to date row by row
 * writes each index page many times over (and a full-page image of it to the WAL after
 * every checkpoint), where one sorted build writes it once.
 */
async function dropSecondaryIndexes(client, tables) {
  const { rows } = await client.query(
    `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition
     FROM pg_index i
     WHERE i.indrelid = ANY ($1::regclass[])
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
     ORDER BY 1`,
    [tables],
  );
  for (const { name } of rows) await client.query(`DROP INDEX ${name}`);
  return rows;
}

/**
 * Builds the dropped indexes again from their exact definitions. maintenance_work_mem
 * is raised for this session only (the server keeps its defaults): with 64 MB a GIN
 * index over 10,000,000 titles is built in many more passes.
 */
async function createIndexes(client, indexes) {
  await client.query(`SET maintenance_work_mem = '1GB'`);
  try {
    for (const { definition } of indexes) await client.query(definition);
  } finally {
    await client.query('RESET maintenance_work_mem');
  }
}

/**
 * Runs `work` in a transaction with the foreign key triggers off: checking 500,000
 * votes row by row takes about 4x longer than inserting them, and the seed's ids are
 * valid by construction (checkReferences proves it afterwards, in one pass).
 * Needs a superuser (the embedded server's); elsewhere the checks simply stay on.
 */
async function withoutForeignKeyChecks(client, work) {
  await client.query('BEGIN');
  try {
    await client.query('SAVEPOINT replica');
    try {
      await client.query('SET LOCAL session_replication_role = replica');
    } catch {
      await client.query('ROLLBACK TO SAVEPOINT replica');
    }
    const result = await work();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
}

/** Every post's owner, every vote's and comment's user and post exist (what the skipped triggers would have checked). */
async function checkReferences(client) {
  // Anti-joins, which PostgreSQL runs as hash joins: one pass over each table.
  const { rows } = await client.query(`SELECT
      (SELECT count(*) FROM posts p WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = p.owner_id))::int AS posts,
      (SELECT count(*) FROM votes v WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = v.user_id))::int AS vote_users,
      (SELECT count(*) FROM votes v WHERE NOT EXISTS (SELECT 1 FROM posts p WHERE p.id = v.post_id))::int AS vote_posts,
      (SELECT count(*) FROM comments c WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = c.author_id)
        OR NOT EXISTS (SELECT 1 FROM posts p WHERE p.id = c.post_id))::int AS comments`);
  if (Object.values(rows[0]).some((dangling) => dangling > 0)) {
    throw new Error(`the seed wrote dangling references: ${JSON.stringify(rows[0])}`);
  }
}

/** Ids inserted by one statement, checked to be one unbroken range. */
async function insertedRange(client, sql, params, what) {
  const { rows } = await client.query(
    `WITH inserted AS (${sql} RETURNING id) SELECT min(id) AS first, max(id) AS last, count(*)::int AS count FROM inserted`,
    params,
  );
  const range = { first: Number(rows[0].first), last: Number(rows[0].last), count: rows[0].count };
  if (range.last - range.first + 1 !== range.count) {
    // The vote pairs below are computed from the ranges, so gaps would make them miss.
    throw new Error(`the ${what} ids are not contiguous (${JSON.stringify(range)}); is something else writing?`);
  }
  return range;
}

function insertUsers(client, count, passwordHash, tag) {
  // One shared precomputed hash: hashing per user at cost 12 would take minutes.
  return insertedRange(
    client,
    `INSERT INTO users (email, username, password_hash, created_at)
     SELECT 'bench-' || $3 || '-' || g || '@example.com', 'b_' || $3 || '_' || g, $2, now() - random() * interval '730 days'
     FROM generate_series(1, $1::int) AS g`,
    [count, passwordHash, tag],
    'user',
  );
}

function insertPosts(client, count, users) {
  // The ARRAY(...) subqueries mention `g`, so PostgreSQL evaluates them per row
  // (uncorrelated, they would run once and every post would get the same text).
  // 95% published: drafts keep the visibility rule (published OR own) honest.
  return insertedRange(
    client,
    `INSERT INTO posts (title, content, published, created_at, owner_id)
     SELECT initcap(array_to_string(ARRAY(
              SELECT w[1 + floor(random() * cardinality(w))::int] FROM generate_series(1, 3 + g % 4)), ' ')),
            array_to_string(ARRAY(
              SELECT w[1 + floor(random() * cardinality(w))::int] FROM generate_series(1, 20 + g % 40)), ' ') || '.',
            random() < 0.95,
            now() - random() * interval '365 days',
            $2 + floor(random() * $3)::int
     FROM generate_series(1, $1::int) AS g, (SELECT $4::text[] AS w) AS words`,
    [count, users.first, users.count, WORDS],
    'post',
  );
}

/**
 * `count` comments by random users on random posts, oldest first by id as the API
 * writes them, then HOT_POST_COMMENTS on the first published post (`hotPost`).
 */
async function insertComments(client, count, users, posts) {
  const comment = (postId) => `INSERT INTO comments (post_id, author_id, content, created_at)
     SELECT ${postId}, $2 + floor(random() * $3)::int,
            array_to_string(ARRAY(SELECT w[1 + floor(random() * cardinality(w))::int] FROM generate_series(1, 5 + g % 20)), ' '),
            now() - ($1::int - g) * interval '1 second'
     FROM generate_series(1, $1::int) AS g, (SELECT $5::text[] AS w) AS words
     ORDER BY g`;
  if (count > 0) {
    await client.query(comment('$4 + floor(random() * $6)::int'), [
      count,
      users.first,
      users.count,
      posts.first,
      WORDS,
      posts.count,
    ]);
  }
  const { rows } = await client.query('SELECT min(id) AS id FROM posts WHERE published');
  const hotPost = rows[0].id;
  await client.query(comment('$4::int'), [HOT_POST_COMMENTS, users.first, users.count, hotPost, WORDS]);
  return { hotPost };
}

/**
 * The counts the triggers keep (migration PostCounters), which did not fire in replica
 * mode: one aggregate pass over votes and one over comments.
 */
async function countVotesAndComments(client) {
  // One UPDATE for both counts: each updated row is a new row version, so two passes
  // would leave the table three times its size instead of two.
  await client.query(`UPDATE posts SET votes_count = counted.votes, comments_count = counted.comments
     FROM (
       SELECT coalesce(v.post_id, c.post_id) AS post_id, coalesce(v.n, 0) AS votes, coalesce(c.n, 0) AS comments
       FROM (SELECT post_id, count(*)::int AS n FROM votes GROUP BY post_id) v
       FULL JOIN (SELECT post_id, count(*)::int AS n FROM comments GROUP BY post_id) c ON c.post_id = v.post_id
     ) counted
     WHERE posts.id = counted.post_id`);
}

/**
 * Distinct (user, post) pairs without a uniqueness check: k -> k * step mod N is a
 * bijection on 0..N-1 (N = users x posts) when step and N are coprime, and pair p is
 * (user p mod U, post p div U). A step near N / golden ratio scatters the votes over
 * all posts (a handful each) instead of piling them on the first ones.
 */
function insertVotes(client, count, users, posts) {
  if (count === 0) {
    return Promise.resolve();
  }
  const pairs = users.count * posts.count;
  const step = coprimeStep(pairs, count);
  return client.query(
    `INSERT INTO votes (user_id, post_id)
     SELECT $2 + (p % $3), $4 + (p / $3)
     FROM (SELECT (k * $5::bigint) % $6::bigint AS p FROM generate_series(0::bigint, $1::bigint - 1) AS k) AS pairs
     ORDER BY 1, 2 -- in primary key order: the index is filled left to right, not at random`,
    [count, users.first, users.count, posts.first, step, pairs],
  );
}

/**
 * The first number from about N / 1.618 that shares no factor with N, capped so that
 * k * step fits a bigint for every k below `count`. (A fixed cap of 2e9 used to bite from
 * N = users x posts ~ 3.2e9 on: at 10,000 users x 1,000,000 posts the step was ~2e9 = N / 5,
 * and the 5,000,000 votes fell on 2,500 posts instead of all of them.)
 */
export function coprimeStep(n, count = 1) {
  const bigintSafe = Math.floor(9e18 / Math.max(1, count));
  let step = Math.max(1, Math.min(Math.floor(n / 1.618), bigintSafe, Number.MAX_SAFE_INTEGER));
  for (let tries = 0; tries < 1_000; tries++, step++) {
    if (gcd(step, n) === 1) {
      return step;
    }
  }
  return 1; // unreachable in practice; 1 is always coprime
}

function gcd(a, b) {
  while (b !== 0) {
    [a, b] = [b, a % b];
  }
  return a;
}

/** Post ids the given viewer may see (published, or their own drafts), and the published ones. */
export async function loadPostIds(url, viewerId) {
  return withClient(url, async (client) => {
    const visible = await client.query('SELECT id FROM posts WHERE published OR owner_id = $1', [viewerId]);
    const published = await client.query('SELECT id FROM posts WHERE published');
    return {
      visible: Int32Array.from(visible.rows, (row) => row.id),
      published: Int32Array.from(published.rows, (row) => row.id),
    };
  });
}
