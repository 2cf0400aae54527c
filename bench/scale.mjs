#!/usr/bin/env node
// `npm run bench:scale`: what the lists cost as the data grows. For each size (10,000,
// 100,000 and 1,000,000 posts by default) it reseeds the database, restarts the app and
// measures the first page of GET /posts, a deep page by `skip` and by cursor, a common and
// a rare title search, the most voted posts (`sort=top`), one author's posts (`author=`)
// and a post's comments, with autocannon and with EXPLAIN (ANALYZE, BUFFERS) of the app's
// own SQL. At the largest size it then drops each index in turn, measures again and
// recreates it.
// Writes bench/SCALE.md and bench/scale-results.json, and the section into RESULTS.md.
// See bench/README.md ("Cost as the data grows").
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcrypt';
import { installSignalHandlers, onCleanup, onExit, runCleanup, stoppingSignal } from './lib/cleanup.mjs';
import { startDatabase, withClient, withDatabase } from './lib/database.mjs';
import { BENCH_DIR, START_PROD_NODE_ARGS } from './lib/options.mjs';
import { APP_ENTRY, login, startApp } from './lib/processes.mjs';
import { readScaleSection, withScaleSection } from './lib/scale-section.mjs';
import { median, round, runScenario } from './lib/scenarios.mjs';
import { BENCH_PASSWORD, benchEmail, benchUsername, HOT_POST_COMMENTS, seed, WORDS } from './lib/seed.mjs';
import { openStatementStats } from './lib/statement-stats.mjs';
// `npm run bench:scale` builds first: the statements are the ones the app runs.
import commentsQueries from '../dist/src/comments/comments.queries.js';
import postsQueries from '../dist/src/posts/posts.queries.js';

const { listPosts } = postsQueries;
const { listComments } = commentsQueries;

/** The ratio of the main bench's default data: 1,000 users, 100,000 posts, 500,000 votes. */
const USERS_PER_POST = 1 / 100;
const VOTES_PER_POST = 5;
/** Comments scattered over random posts, besides the HOT_POST_COMMENTS of the seed's hot post. */
const COMMENTS_PER_POST = 2;
/** The page of `GET /posts/{id}/comments` (its default); the app asks for one more row. */
const COMMENTS_LIMIT = 20;
/** A word in no seeded title (and in none of WORDS), added to about RARE_TITLES titles. */
const RARE_WORD = 'zephyr';
const RARE_TITLES = 25;
/** Deep pages start at this share of the posts the viewer can see. */
const DEEP_SHARE = 0.9;
/** The deepest `skip` the API takes (422 beyond: deeper pages follow the cursor). */
const MAX_SKIP = 10_000;
/** A deep `skip` page at 1M posts takes about a second under load: no 10 s timeouts. */
const REQUEST_TIMEOUT_SECONDS = 60;
const EXPLAIN_TIMEOUT = '120s';
/**
 * Waits (at most IDLE_WAIT_MS) until no other session runs a statement, twice in a row:
 * when autocannon stops, the app still finishes the requests it had started, which can
 * be minutes of work for slow ones, and must not overlap the next measurement.
 */
async function waitForIdleDatabase(client) {
  const deadline = Date.now() + IDLE_WAIT_MS;
  let idleInARow = 0;
  while (Date.now() < deadline && idleInARow < 2) {
    const { rows } = await client.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
    );
    idleInARow = rows[0].n === 0 ? idleInARow + 1 : 0;
    if (idleInARow < 2) await new Promise((resolve) => setTimeout(resolve, 300));
  }
}
const IDLE_WAIT_MS = 180_000;

/** The measured window of a request too slow for the normal one (see measure()). */
const SLOW_SECONDS = 15;

/**
 * The text of the app's list SQL, from the build itself (src/posts/posts.queries.ts):
 * the page of posts first, then the vote count of those posts only. The run checks,
 * through pg_stat_statements, that the app sent exactly these texts (`sqlMatchesApp`).
 */
function listSql({ search = false, cursor = false, order = 'new', author = false } = {}) {
  return listPosts({
    viewerId: 0,
    limit: 10,
    skip: 0,
    order,
    titlePattern: search ? '' : undefined,
    after: cursor ? { createdAtMicros: '0', id: 1 } : undefined,
    authorUsername: author ? '' : undefined,
  }).text;
}

/**
 * The page of comments the comments route sends after its visibility check of the post
 * (`CommentsService.list`: a lookup of the post by its primary key, then this statement).
 */
function commentsSql() {
  return listComments(0, 0, 0).text;
}

/** The indexes this run drops at the largest size, with the migrations' definitions. */
const INDEXES = {
  posts_created_at_id_idx: 'CREATE INDEX "posts_created_at_id_idx" ON "posts" ("created_at" DESC, "id" DESC)',
  posts_title_trgm_idx: 'CREATE INDEX "posts_title_trgm_idx" ON "posts" USING gin ("title" gin_trgm_ops)',
  votes_post_id_idx: 'CREATE INDEX "votes_post_id_idx" ON "votes" ("post_id")',
  posts_owner_id_created_at_id_idx:
    'CREATE INDEX "posts_owner_id_created_at_id_idx" ON "posts" ("owner_id", "created_at" DESC, "id" DESC)',
  posts_votes_count_created_at_id_idx:
    'CREATE INDEX "posts_votes_count_created_at_id_idx" ON "posts" ("votes_count" DESC, "created_at" DESC, "id" DESC)',
  comments_post_id_id_idx: 'CREATE INDEX "comments_post_id_id_idx" ON "comments" ("post_id", "id")',
};

const log = (message) => console.log(message);

// ---------------------------------------------------------------------------------------
// Options

const USAGE = `Usage: node bench/scale.mjs [--smoke] [--sizes 10000,100000,1000000] [--duration S] [--warmup S]
       [--connections N] [--index-connections N] [--no-index-phase] [--out DIR]
Environment (flags win): BENCH_SCALE_SIZES, BENCH_DURATION, BENCH_WARMUP, BENCH_CONNECTIONS,
BENCH_INDEX_CONNECTIONS, BENCH_OUT, BENCH_SEARCH, BCRYPT_ROUNDS, DATABASE_POOL_SIZE, DATABASE_URL.`;

function parseOptions(argv = process.argv.slice(2), env = process.env) {
  const flags = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`Unexpected argument "${arg}"\n${USAGE}`);
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2);
    if (['smoke', 'help', 'no-index-phase'].includes(name)) flags[name] = true;
    else if (inline !== undefined) flags[name] = inline;
    else if (i + 1 < argv.length) flags[name] = argv[++i];
    else throw new Error(`--${name} needs a value\n${USAGE}`);
  }
  const known = [
    'smoke',
    'help',
    'no-index-phase',
    'sizes',
    'duration',
    'warmup',
    'connections',
    'index-connections',
    'out',
  ];
  for (const name of Object.keys(flags)) {
    if (!known.includes(name)) throw new Error(`Unknown option --${name}\n${USAGE}`);
  }
  if (flags.help) {
    log(USAGE);
    process.exit(0);
  }
  const smoke = flags.smoke === true;
  const pick = (flag, variable) => flags[flag] ?? env[variable];
  const number = (raw, fallback, name, min, max, integer = true) => {
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
      throw new Error(`${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max} (got "${raw}")`);
    }
    return value;
  };
  const rawSizes = pick('sizes', 'BENCH_SCALE_SIZES');
  const posts = rawSizes
    ? String(rawSizes)
        .split(',')
        .map((s) => number(s.trim().replace(/_/g, ''), undefined, '--sizes', 100, 20_000_000))
    : smoke
      ? [500, 1_000, 2_000]
      : [10_000, 100_000, 1_000_000, 10_000_000];
  if (posts.length === 0 || posts.some((p) => p === undefined)) throw new Error(`--sizes: ${USAGE}`);
  posts.sort((a, b) => a - b);
  return {
    smoke,
    sizes: posts.map((p) => ({
      users: Math.max(10, Math.round(p * USERS_PER_POST)),
      posts: p,
      votes: Math.round(p * VOTES_PER_POST),
      comments: Math.round(p * COMMENTS_PER_POST),
    })),
    duration: number(pick('duration', 'BENCH_DURATION'), smoke ? 1 : 5, 'BENCH_DURATION', 1, 600),
    warmup: number(pick('warmup', 'BENCH_WARMUP'), smoke ? 1 : 2, 'BENCH_WARMUP', 0, 120),
    connections: number(pick('connections', 'BENCH_CONNECTIONS'), smoke ? 8 : 32, 'BENCH_CONNECTIONS', 1, 1000),
    // Without an index a request can take seconds: fewer connections, for both columns.
    indexConnections: number(
      pick('index-connections', 'BENCH_INDEX_CONNECTIONS'),
      smoke ? 2 : 4,
      'BENCH_INDEX_CONNECTIONS',
      1,
      1000,
    ),
    indexPhase: flags['no-index-phase'] !== true,
    outDir: pick('out', 'BENCH_OUT') || (smoke ? join(os.tmpdir(), 'posts-api-bench-scale-smoke') : BENCH_DIR),
    searchWord: env.BENCH_SEARCH || 'garden',
    // Login is not measured here: the cheapest cost unless set.
    bcryptRounds: number(env.BCRYPT_ROUNDS, 4, 'BCRYPT_ROUNDS', 4, 15),
    poolSize: number(env.DATABASE_POOL_SIZE, 10, 'DATABASE_POOL_SIZE', 1, 1000),
    databaseUrl: env.DATABASE_URL || undefined,
  };
}

// ---------------------------------------------------------------------------------------
// The run

async function main() {
  const options = parseOptions();
  installSignalHandlers();
  // A last bound on the whole run: SIGTERM goes through the same cleanup as Ctrl-C.
  const maxMinutes = Number(process.env.BENCH_SCALE_MAX_MINUTES) || (options.smoke ? 5 : 180);
  setTimeout(() => {
    console.error(`\nthe run took more than ${maxMinutes} min (BENCH_SCALE_MAX_MINUTES): stopping`);
    process.kill(process.pid, 'SIGTERM');
  }, maxMinutes * 60_000).unref();
  const loadAtStart = os.loadavg().map((v) => round(v, 2));
  const startedAt = Date.now();
  if (!existsSync(APP_ENTRY)) {
    throw new Error(
      `${APP_ENTRY} is missing: build first (npm run bench:scale does: nest build && node bench/scale.mjs)`,
    );
  }
  if (!WORDS.includes(options.searchWord)) {
    throw new Error(`BENCH_SEARCH must be one of the seed's words (WORDS in bench/lib/seed.mjs)`);
  }
  if (WORDS.some((w) => w.includes(RARE_WORD) || RARE_WORD.includes(w))) {
    throw new Error(`the rare word ${RARE_WORD} overlaps a seed word`);
  }
  log(
    `posts-api scale benchmark${options.smoke ? ' (smoke)' : ''}: posts ${options.sizes.map((s) => s.posts).join(', ')}; ` +
      `${options.connections} connections, ${options.warmup} s warm-up + ${options.duration} s per scenario; load average ${loadAtStart.join(' / ')}`,
  );

  const database = await startDatabase(options);
  if (database.shared) {
    // Every size starts from TRUNCATE: never on a database that holds anything else.
    throw new Error('bench:scale needs a database of its own (DATABASE_URL must allow CREATE DATABASE)');
  }
  log(`database: ${database.describe}`);
  const jwtSecret = randomBytes(48).toString('base64url');
  const scratch = await mkdtemp(join(os.tmpdir(), 'posts-api-bench-scale-app-'));
  onCleanup('remove the app folder', () => rm(scratch, { recursive: true, force: true }));
  onExit(() => rmSync(scratch, { recursive: true, force: true }));
  const passwordHash = await bcrypt.hash(BENCH_PASSWORD, options.bcryptRounds);
  const appSettings = { options, databaseUrl: database.url, jwtSecret, scratch, nodeArgs: START_PROD_NODE_ARGS };

  // One admin connection for the whole run: EXPLAIN, DDL, counts.
  const admin = await openClient(database.url);
  options.admin = admin;
  let stats;
  const sizes = [];
  let indexPhase;
  let largest;
  for (const [index, size] of options.sizes.entries()) {
    const last = index === options.sizes.length - 1;
    log(
      `\n== ${fmt(size.posts)} posts, ${fmt(size.users)} users, ${fmt(size.votes)} votes, ${fmt(size.comments)} + ${HOT_POST_COMMENTS} comments`,
    );
    // A fresh app per size: migrations on the first start, no warm state carried over.
    let app = index === 0 ? await startApp(appSettings) : undefined;
    if (index === 0) {
      await app.stop();
      stats = await openStatementStats(database.url);
    } else {
      await admin.query('TRUNCATE users, posts, votes, comments, sessions RESTART IDENTITY CASCADE');
    }
    const seeded = await seed(database.url, { sizes: size, passwordHash, tag: 'run' });
    const rare = await addRareWord(admin, size.posts);
    seeded.timings.rareWord = rare.ms;
    log(`seeded in ${(seeded.timings.total / 1000).toFixed(1)} s ${JSON.stringify(seeded.timings)}`);

    app = await startApp(appSettings);
    const token = await login(app.url, benchEmail('run', 1));
    const viewer = seeded.users.first;
    const setup = await prepareQueries(admin, app, token, viewer, options.searchWord, seeded);
    log(
      `viewer ${viewer} sees ${fmt(setup.visible)} posts; deep page at skip=${fmt(setup.skip)}, by cursor at ${fmt(setup.deep)}; ` +
        `"${options.searchWord}" in ${fmt(setup.commonMatches)} titles, "${RARE_WORD}" in ${setup.rareMatches}; ` +
        `author ${setup.author} has ${fmt(setup.authorPosts)} posts; post ${setup.hotPost} has ${fmt(setup.hotPostComments)} comments`,
    );

    const plans = {};
    for (const [key, query] of Object.entries(setup.queries)) {
      plans[key] = await explain(admin, query);
      log(`  EXPLAIN ${key.padEnd(13)} ${plans[key].line}`);
    }
    const scenarios = defineScenarios(setup, token);
    const measured = {};
    const sqlMatchesApp = {};
    for (const scenario of scenarios) {
      measured[scenario.key] = await measure(app, scenario, options, options.connections, stats, {
        expectedMs: plans[scenario.key].executionMs,
      });
      // pg_stat_statements now holds this scenario's measured part only (reset after each warm-up).
      sqlMatchesApp[scenario.key] = await sentByApp(admin, setup.queries[scenario.key].sql);
    }
    sqlMatchesApp.all = Object.values(sqlMatchesApp).every((v) => v !== false);

    if (last && options.indexPhase) {
      indexPhase = await withoutIndexes(admin, app, setup, scenarios, options, stats);
    }
    if (last) largest = { seeded };
    sizes.push({
      ...size,
      seed: seeded.timings,
      visible: setup.visible,
      skip: setup.skip,
      deep: setup.deep,
      commonMatches: setup.commonMatches,
      rareMatches: setup.rareMatches,
      author: setup.author,
      authorPosts: setup.authorPosts,
      hotPost: setup.hotPost,
      hotPostComments: setup.hotPostComments,
      samePageBySkipAndCursor: setup.samePage,
      sqlMatchesApp,
      scenarios: measured,
      plans,
      appPeakRssMb: app.peakRssMb(),
    });
    await app.stop();
  }
  const interleaved =
    options.sizes.length > 1
      ? await interleavedGrowth({ options, appSettings, database, admin, passwordHash, largest })
      : undefined;

  const results = {
    date: new Date().toISOString(),
    mode: options.smoke ? 'smoke' : 'full',
    machine: {
      nproc: os.availableParallelism(),
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      memoryGb: round(os.totalmem() / 1024 ** 3, 1),
      node: process.version,
      loadAverageAtStart: loadAtStart,
      loadAverageAtEnd: os.loadavg().map((v) => round(v, 2)),
    },
    database: database.describe,
    settings: {
      connections: options.connections,
      indexConnections: options.indexConnections,
      duration: options.duration,
      warmup: options.warmup,
      poolSize: options.poolSize,
      searchWord: options.searchWord,
      rareWord: RARE_WORD,
      deepShare: DEEP_SHARE,
      requestTimeoutSeconds: REQUEST_TIMEOUT_SECONDS,
    },
    sizes,
    growth: growthCheck(sizes, interleaved),
    indexPhase,
    wallSeconds: Math.round((Date.now() - startedAt) / 1000),
  };
  const markdown = scaleMarkdown(results);
  log(`\n${markdown}`);
  await mkdir(options.outDir, { recursive: true });
  const jsonPath = join(options.outDir, 'scale-results.json');
  const mdPath = join(options.outDir, 'SCALE.md');
  const resultsPath = join(options.outDir, 'RESULTS.md');
  await writeFile(jsonPath, `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(mdPath, markdown);
  const current = existsSync(resultsPath) ? await readFile(resultsPath, 'utf8') : '# Benchmark results\n';
  await writeFile(resultsPath, withScaleSection(current, await readScaleSection(options.outDir)));
  log(`wrote ${jsonPath}, ${mdPath} and the section of ${resultsPath}`);

  const errors = sizes.reduce((sum, s) => sum + Object.values(s.scenarios).reduce((n, r) => n + r.errors, 0), 0);
  const problems = [];
  if (errors > 0) problems.push(`${errors} error(s) in the measured scenarios`);
  if (sizes.some((s) => !s.samePageBySkipAndCursor)) problems.push('the cursor page differs from the skip page');
  if (sizes.some((s) => !s.sqlMatchesApp.all)) problems.push("the EXPLAINed SQL is not the app's (see sqlMatchesApp)");
  for (const p of problems) console.error(`problem: ${p}`);
  return problems.length > 0 ? 1 : 0;
}

// ---------------------------------------------------------------------------------------
// Data and queries

/** A client for EXPLAIN, DDL and counts; closed at exit unless `closedByCaller`. */
async function openClient(url, { closedByCaller = false } = {}) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url, application_name: 'posts-api-bench-scale' });
  client.on('error', () => {});
  await client.connect();
  if (!closedByCaller) onCleanup('close the admin connection', () => client.end());
  await client.query(`SET statement_timeout = '${EXPLAIN_TIMEOUT}'`);
  // DROP INDEX waits for no one for long: the app is idle between measurements.
  await client.query(`SET lock_timeout = '30s'`);
  return client;
}

/** Appends RARE_WORD to about RARE_TITLES published titles spread over the whole range. */
async function addRareWord(client, posts) {
  const t = performance.now();
  const step = Math.max(1, Math.floor(posts / RARE_TITLES));
  await client.query(`UPDATE posts SET title = title || ' ' || initcap($1::text) WHERE published AND id % $2 = 0`, [
    RARE_WORD,
    step,
  ]);
  await client.query('VACUUM (ANALYZE) posts');
  return { ms: Math.round(performance.now() - t) };
}

/**
 * The requests and their SQL with the viewer's parameters; checks the cursor page equals
 * the skip page, and that the top, author and comments pages are the ones the SQL gives.
 */
async function prepareQueries(client, app, token, viewer, searchWord, seeded) {
  const one = async (sql, params) => (await client.query(sql, params)).rows[0];
  const visible = (await one('SELECT count(*)::int AS n FROM posts WHERE published OR owner_id = $1', [viewer])).n;
  const deep = Math.floor(visible * DEEP_SHARE);
  const skip = Math.min(deep, MAX_SKIP);
  // The last post of the page before a position, as the app would have put it in the Link header.
  const pageBefore = async (position) => {
    const last = await one(
      `SELECT (extract(epoch FROM created_at) * 1000000)::bigint::text AS us, id FROM posts
       WHERE published OR owner_id = $1 ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT 1`,
      [viewer, position - 1],
    );
    return { ...last, cursor: Buffer.from(`${last.us}.${last.id}`, 'utf8').toString('base64url') };
  };
  const atSkip = await pageBefore(skip);
  const before = await pageBefore(deep);
  const cursor = before.cursor;
  const count = async (word) =>
    (await one('SELECT count(*)::int AS n FROM posts WHERE title ILIKE $1', [`%${word}%`])).n;
  const commonMatches = await count(searchWord);
  const rareMatches = await count(RARE_WORD);
  // An ordinary author: the second bench user (not the viewer), about 100 posts at every size.
  const authorId = seeded.users.first + 1;
  const author = benchUsername('run', 2);
  const authorRow = await one('SELECT username FROM users WHERE id = $1', [authorId]);
  if (authorRow?.username !== author)
    throw new Error(`user ${authorId} is not ${author}: ${JSON.stringify(authorRow)}`);
  const authorPosts = (await one('SELECT count(*)::int AS n FROM posts WHERE owner_id = $1', [authorId])).n;
  if (authorPosts === 0) throw new Error(`${author} has no posts`);
  const hotPost = seeded.hotPost;
  const hotPostComments = (await one('SELECT count(*)::int AS n FROM comments WHERE post_id = $1', [hotPost])).n;

  // The cursor page must be the skip page, and page 1 must announce a next page the same way.
  const get = async (path) => {
    const response = await fetch(`${app.url}${path}`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_SECONDS * 1000),
    });
    const body = await response.json();
    if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}: ${JSON.stringify(body)}`);
    const items = Array.isArray(body) ? body : (body.posts ?? body.comments ?? body.items ?? body.data);
    return { ids: items.map((p) => p.id), link: response.headers.get('link') };
  };
  // The page the SQL gives (the same statement and parameters as the EXPLAIN) is the page the app answers.
  const samePageAsSql = async (path, { sql, params }, size) => {
    const expected = (await client.query(sql, params)).rows.slice(0, size).map((r) => Number(r.id));
    const got = (await get(path)).ids;
    if (expected.length === 0 || got.join() !== expected.join()) {
      throw new Error(`GET ${path} gave ids ${got} where the SQL gives ${expected}`);
    }
  };
  const first = await get('/posts?limit=10');
  if (!/rel="next"/.test(first.link ?? '')) throw new Error(`page 1 has no Link rel="next": ${first.link}`);
  const bySkip = await get(`/posts?limit=10&skip=${skip}`);
  const byCursor = await get(`/posts?limit=10&cursor=${atSkip.cursor}`);
  const samePage = bySkip.ids.length === 10 && bySkip.ids.join() === byCursor.ids.join();
  if (!samePage) log(`  warning: skip page ${bySkip.ids} != cursor page ${byCursor.ids}`);

  const base = [viewer, 10, 0];
  const queries = {
    list: { sql: listSql(), params: base },
    deepSkip: { sql: listSql(), params: [viewer, 10, skip] },
    deepCursor: { sql: listSql({ cursor: true }), params: [...base, before.us, before.id] },
    searchCommon: { sql: listSql({ search: true }), params: [...base, `%${searchWord}%`] },
    searchRare: { sql: listSql({ search: true }), params: [...base, `%${RARE_WORD}%`] },
    top: { sql: listSql({ order: 'top' }), params: base },
    author: { sql: listSql({ author: true }), params: [...base, author] },
    // The app asks for one row more than the page: whether a next page exists.
    comments: { sql: commentsSql(), params: [hotPost, 0, COMMENTS_LIMIT + 1] },
  };
  await samePageAsSql('/posts?sort=top&limit=10', queries.top, 10);
  await samePageAsSql(`/posts?author=${author}&limit=10`, queries.author, 10);
  await samePageAsSql(`/posts/${hotPost}/comments?limit=${COMMENTS_LIMIT}`, queries.comments, COMMENTS_LIMIT);
  return {
    visible,
    skip,
    deep,
    cursor,
    searchWord,
    commonMatches,
    rareMatches,
    author,
    authorPosts,
    hotPost,
    hotPostComments,
    samePage,
    queries,
  };
}

function defineScenarios(setup, token) {
  const auth = { authorization: `Bearer ${token}` };
  const scenario = (key, name, path) => ({
    key,
    name,
    expected: [200],
    timeoutSeconds: REQUEST_TIMEOUT_SECONDS,
    requests: [{ method: 'GET', path, headers: auth }],
  });
  return [
    scenario('list', 'GET /posts?limit=10', '/posts?limit=10'),
    scenario('deepSkip', `deep page, skip=${setup.skip}`, `/posts?limit=10&skip=${setup.skip}`),
    scenario('deepCursor', `deep page, cursor at ${setup.deep}`, `/posts?limit=10&cursor=${setup.cursor}`),
    scenario('searchCommon', `search "${setup.searchWord}"`, `/posts?limit=10&search=${setup.searchWord}`),
    scenario('searchRare', `search "${RARE_WORD}"`, `/posts?limit=10&search=${RARE_WORD}`),
    scenario('top', 'GET /posts?sort=top', '/posts?sort=top&limit=10'),
    scenario('author', `GET /posts?author=${setup.author}`, `/posts?author=${setup.author}&limit=10`),
    scenario(
      'comments',
      `GET /posts/${setup.hotPost}/comments`,
      `/posts/${setup.hotPost}/comments?limit=${COMMENTS_LIMIT}`,
    ),
  ];
}

async function measure(
  app,
  scenario,
  options,
  connections,
  stats,
  { duration = options.duration, warmup = options.warmup, expectedMs } = {},
) {
  if (!app.isRunning()) throw new Error(`the app is no longer running:\n${app.output.lines.join('\n')}`);
  // From one execution's time on an idle server (EXPLAIN): with `connections` in flight on
  // this many cores, would a response even arrive within the window?
  const hopeless = expectedMs !== undefined && (expectedMs * connections) / os.availableParallelism() > duration * 1000;
  let r = hopeless ? { requests: 0 } : await runScenario(scenario, app.url, { duration, warmup, connections }, stats);
  let note;
  if (r.requests < Math.max(4, connections)) {
    // Slower than the window (a deep skip page at 1M posts takes seconds): again, with at most
    // `--index-connections` connections, no warm-up (its requests would still be running) and a longer window.
    const fewer = Math.min(connections, options.indexConnections);
    note = hopeless
      ? `one execution takes ${Math.round(expectedMs)} ms: not tried at ${connections} connections for ${duration} s; measured at ${fewer} for ${SLOW_SECONDS} s`
      : `${r.requests} responses in ${duration} s at ${connections} connections; measured again at ${fewer} for ${SLOW_SECONDS} s`;
    log(`  ${scenario.name}: ${note}`);
    connections = fewer;
    duration = SLOW_SECONDS;
    // The app is still answering the abandoned requests of the first try: let them end first.
    await waitForIdleDatabase(options.admin);
    r = await runScenario(scenario, app.url, { duration, warmup: 0, connections }, stats);
  }
  await waitForIdleDatabase(options.admin);
  const result = {
    note,
    connections,
    duration,
    reqPerSec: r.reqPerSec,
    p50: r.p50,
    p99: r.p99,
    errors: r.errors,
    requests: r.requests,
    statuses: r.statuses,
    dbMsPerRequest: r.db?.dbMsPerRequest,
  };
  log(
    `  ${scenario.name.padEnd(24)} ${String(connections).padStart(3)} conn ${String(r.reqPerSec).padStart(8)} req/s  ` +
      `p50 ${r.p50} ms  p99 ${r.p99} ms  errors ${r.errors}` +
      (r.db ? `  ${r.db.dbMsPerRequest} db ms/req` : ''),
  );
  return result;
}

// ---------------------------------------------------------------------------------------
// EXPLAIN

/** EXPLAIN (ANALYZE, BUFFERS) of the app's statement with the app's parameters; the second of two runs (warm cache). */
async function explain(client, { sql, params }) {
  let plan;
  for (let i = 0; i < 2; i++) {
    // Parameters bound like the app's pool.query (unnamed statement: planned for these values).
    plan = (await client.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${sql}`, params)).rows[0]['QUERY PLAN'][0];
  }
  return summarizePlan(plan);
}

function summarizePlan(plan) {
  const nodes = [];
  const walk = (node, depth) => {
    nodes.push({ node, depth });
    for (const child of node.Plans ?? []) walk(child, depth + 1);
  };
  walk(plan.Plan, 0);
  const name = (n) =>
    [n['Node Type'], n['Index Name'] && `using ${n['Index Name']}`, n['Relation Name'] && `on ${n['Relation Name']}`]
      .filter(Boolean)
      .join(' ');
  const loops = (n) => n['Actual Loops'] ?? 1;
  const scans = nodes
    .filter(({ node }) => node['Relation Name'] || /Index|Bitmap/.test(node['Node Type']))
    .map(({ node }) => ({
      node: name(node),
      relation: node['Relation Name'],
      loops: loops(node),
      // What the node read: the rows it returned plus those its filters threw away.
      rowsRead: Math.round(
        (node['Actual Rows'] + (node['Rows Removed by Filter'] ?? 0) + (node['Rows Removed by Index Recheck'] ?? 0)) *
          loops(node),
      ),
      rowsReturned: Math.round(node['Actual Rows'] * loops(node)),
    }));
  const sorts = nodes
    .filter(({ node }) => node['Node Type'] === 'Sort' || node['Node Type'] === 'Incremental Sort')
    .map(({ node }) =>
      `${node['Sort Method'] ?? '?'} (${node['Sort Space Used'] ?? '?'} kB ${node['Sort Space Type'] ?? ''})`.trim(),
    );
  const summary = {
    top: name(plan.Plan),
    executionMs: round(plan['Execution Time'], 2),
    planningMs: round(plan['Planning Time'], 2),
    sharedHit: plan.Plan['Shared Hit Blocks'],
    sharedRead: plan.Plan['Shared Read Blocks'],
    tempRead: plan.Plan['Temp Read Blocks'],
    scans,
    sorts,
  };
  const scanText = scans
    .filter(shownScan)
    .map((s) => `${s.node}${s.loops > 1 ? ` x${s.loops}` : ''} read ${fmt(s.rowsRead)}`)
    .join('; ');
  summary.line = `${summary.executionMs} ms, top ${summary.top}; ${scanText}${sorts.length ? `; sort ${sorts.join(', ')}` : ''}`;
  return summary;
}

/** The scans a plan's summary shows: those of the big tables (users are one row per post, by key). */
function shownScan(s) {
  return ['posts', 'votes', 'comments'].includes(s.relation) || /Bitmap Index/.test(s.node);
}

/** Whether pg_stat_statements saw the app send this SQL text (whitespace aside); undefined when it cannot tell. */
async function sentByApp(client, sql) {
  // pg_stat_statements shows constants as $n (extract's epoch, 'epoch', 1000000, the ESCAPE character):
  // compare with every constant and parameter as '?'.
  const squash = (text) =>
    text
      .replace(/'(?:[^']|'')*'/g, '?')
      .replace(/extract\(epoch /gi, 'extract(? ') // the field name is a constant too
      .replace(/\$\d+/g, '?')
      .replace(/\b\d+\b/g, '?')
      .replace(/\s+/g, ' ')
      .trim();
  try {
    const { rows } = await client.query(`SELECT DISTINCT query FROM pg_stat_statements`);
    return rows.some((r) => squash(r.query) === squash(sql));
  } catch {
    return undefined; // no pg_stat_statements on this server
  }
}

// ---------------------------------------------------------------------------------------
// Without the indexes (largest size)

async function withoutIndexes(client, app, setup, scenarios, options, stats) {
  const byKey = Object.fromEntries(scenarios.map((s) => [s.key, s]));
  const conn = options.indexConnections;
  const phase = { connections: conn, duration: options.duration, steps: [] };
  log(`\n-- what each index buys (${conn} connections for both columns)`);
  const withIndexes = {};
  for (const s of scenarios) withIndexes[s.key] = await measure(app, s, options, conn, stats);

  // Which measurements each dropped index is about. (A step may set fewer connections for
  // requests that take seconds without its index; its "with" column is then measured again.)
  // votes_post_id_idx no longer serves a list (the counts are columns, `voted` is a lookup
  // of votes_pkey): page 1 shows that it is not missed there.
  const plan = [
    { index: 'posts_created_at_id_idx', keys: ['list', 'deepSkip', 'deepCursor'], connections: conn },
    { index: 'posts_title_trgm_idx', keys: ['searchCommon', 'searchRare'], connections: conn },
    { index: 'votes_post_id_idx', keys: ['list'], connections: conn },
    { index: 'posts_votes_count_created_at_id_idx', keys: ['top'], connections: conn },
    { index: 'posts_owner_id_created_at_id_idx', keys: ['author'], connections: conn },
    { index: 'comments_post_id_id_idx', keys: ['comments'], connections: conn },
  ];
  for (const step of plan) {
    log(`DROP INDEX ${step.index}`);
    await client.query(`DROP INDEX ${step.index}`);
    const rows = [];
    try {
      await client.query('ANALYZE posts, votes, comments');
      for (const key of step.keys) {
        const withoutPlan = await explain(client, setup.queries[key]);
        log(`  EXPLAIN ${key.padEnd(13)} ${withoutPlan.line}`);
        const without = await measure(app, byKey[key], options, step.connections, stats, {
          warmup: Math.min(1, options.warmup),
          expectedMs: withoutPlan.executionMs,
        });
        const withSame = step.connections === conn ? withIndexes[key] : await measureWithIndexLater(step, key);
        rows.push({ key, name: byKey[key].name, without, withoutPlan, with: withSame });
      }
    } finally {
      const t = performance.now();
      await client.query(`SET maintenance_work_mem = '256MB'`);
      await client.query(`SET statement_timeout = '600s'`);
      await client.query(INDEXES[step.index]);
      await client.query('RESET maintenance_work_mem');
      await client.query(`SET statement_timeout = '${EXPLAIN_TIMEOUT}'`);
      step.recreateMs = Math.round(performance.now() - t);
      log(`recreated ${step.index} in ${(step.recreateMs / 1000).toFixed(1)} s`);
    }
    // For the one-connection step, the "with" numbers at one connection, index back.
    for (const row of rows) {
      if (row.with === undefined) row.with = await measure(app, byKey[row.key], options, step.connections, stats);
    }
    phase.steps.push({ index: step.index, connections: step.connections, recreateMs: step.recreateMs, rows });
  }
  return phase;
}

/** Marker: measured after the index is back (see withoutIndexes). */
function measureWithIndexLater() {
  return undefined;
}

// ---------------------------------------------------------------------------------------
// Report

const KEYS = ['list', 'deepSkip', 'deepCursor', 'searchCommon', 'searchRare', 'top', 'author', 'comments'];
/** The requests that should read about one page of rows (deep `skip` and a common search read more by design). */
const PAGE_KEYS = ['list', 'deepCursor', 'searchRare', 'top', 'author', 'comments'];

/** The requests whose p50 at the largest size must stay within GROWTH_LIMIT of the smallest's. */
const GROWTH_KEYS = ['list', 'deepCursor', 'top', 'author', 'searchRare'];
const GROWTH_LIMIT = 1.3;

/**
 * p50 at the largest size over p50 at the smallest, per request, with the same ratio of
 * the database's own time per request (pg_stat_statements) beside it: the HTTP p50 at 32
 * connections is mostly the app's queue, the database time is what grows with the data.
 */
function growthCheck(sizes, interleaved) {
  const small = sizes[0];
  const large = sizes.at(-1);
  const rows = GROWTH_KEYS.map((key) => {
    const a = small.scenarios[key];
    const b = large.scenarios[key];
    const pair = interleaved?.[key];
    const ratio = round((pair?.large.p50 ?? b.p50) / Math.max(0.1, pair?.small.p50 ?? a.p50), 2);
    const dbRatio =
      a.dbMsPerRequest && b.dbMsPerRequest ? round(b.dbMsPerRequest / Math.max(0.001, a.dbMsPerRequest), 2) : undefined;
    return {
      key,
      smallP50: pair?.small.p50 ?? a.p50,
      largeP50: pair?.large.p50 ?? b.p50,
      interleaved: pair,
      ratio,
      smallDbMs: a.dbMsPerRequest,
      largeDbMs: b.dbMsPerRequest,
      dbRatio,
      smallExplainMs: small.plans[key].executionMs,
      largeExplainMs: large.plans[key].executionMs,
      within: ratio <= GROWTH_LIMIT,
    };
  });
  return {
    smallPosts: small.posts,
    largePosts: large.posts,
    limit: GROWTH_LIMIT,
    interleavedRuns: interleaved ? GROWTH_RUNS : 0,
    rows,
    all: rows.every((r) => r.within),
  };
}

/** Runs of each request per size in the interleaved comparison; the medians are compared. */
const GROWTH_RUNS = 3;

/**
 * The smallest and the largest size side by side, in the same minutes: the smallest size
 * is seeded again into a second database of the same server (the largest is still in the
 * first), one app is started on each, and each growth request is measured GROWTH_RUNS
 * times on each, alternating (small, large, large, small, ...). On a shared machine the
 * load moves between the first size's minutes and the last's, an hour apart; here both
 * see the same load, so the ratio is the data's and not the machine's.
 */
async function interleavedGrowth({ options, appSettings, database, admin, passwordHash, largest }) {
  const size = options.sizes[0];
  const name = `${new URL(database.url).pathname.slice(1)}_small`;
  const url = withDatabase(database.url, name);
  log(`\n== interleaved: ${fmt(size.posts)} posts (database ${name}) beside ${fmt(options.sizes.at(-1).posts)}`);
  await admin.query(`DROP DATABASE IF EXISTS ${name}`);
  await admin.query(`CREATE DATABASE ${name}`);
  const apps = [];
  const client = await openClient(url, { closedByCaller: true });
  try {
    // The first start runs the migrations on the new database; the seed goes in behind it.
    const migrate = await startApp({ ...appSettings, databaseUrl: url });
    await migrate.stop();
    const seeded = await seed(url, { sizes: size, passwordHash, tag: 'run' });
    await addRareWord(client, size.posts);
    const sides = {};
    for (const [side, sideUrl, sideSeeded, sideClient] of [
      ['small', url, seeded, client],
      ['large', database.url, largest.seeded, admin],
    ]) {
      const app = await startApp({ ...appSettings, databaseUrl: sideUrl });
      apps.push(app);
      const token = await login(app.url, benchEmail('run', 1));
      const setup = await prepareQueries(
        sideClient,
        app,
        token,
        sideSeeded.users.first,
        options.searchWord,
        sideSeeded,
      );
      const scenarios = Object.fromEntries(defineScenarios(setup, token).map((s) => [s.key, s]));
      sides[side] = { app, scenarios };
    }
    const result = {};
    for (const key of GROWTH_KEYS) {
      const runs = { small: [], large: [] };
      for (let run = 0; run < GROWTH_RUNS; run++) {
        const order = run % 2 === 0 ? ['small', 'large'] : ['large', 'small'];
        for (const side of order) {
          runs[side].push(
            await measure(sides[side].app, sides[side].scenarios[key], options, options.connections, undefined),
          );
        }
      }
      const summary = (list) => ({
        p50: median(list.map((r) => r.p50)),
        reqPerSec: median(list.map((r) => r.reqPerSec)),
        p50s: list.map((r) => r.p50),
      });
      result[key] = { small: summary(runs.small), large: summary(runs.large) };
      log(
        `  ${key.padEnd(12)} p50 ${result[key].small.p50s.join('/')} ms at ${fmt(size.posts)} vs ${result[key].large.p50s.join('/')} ms at ${fmt(options.sizes.at(-1).posts)}`,
      );
    }
    return result;
  } finally {
    for (const app of apps) await app.stop();
    await client.end();
    await admin.query(`DROP DATABASE IF EXISTS ${name}`);
  }
}

function fmt(n) {
  return typeof n === 'number' ? n.toLocaleString('en-US') : String(n);
}

function scaleMarkdown(r) {
  const s = r.settings;
  const m = r.machine;
  const out = [];
  out.push('## Cost as the data grows');
  out.push('');
  out.push(
    `Written by \`npm run bench:scale\` (\`bench/scale.mjs\`${r.mode === 'smoke' ? ', **smoke mode: tiny sizes, numbers mean nothing**' : ''}); see \`bench/README.md\`. ` +
      `Each size is seeded fresh (users and votes in the proportion of the main bench: 1 user and 5 votes per 100 and per 1 post; ${COMMENTS_PER_POST} comments per post on random posts, plus ${HOT_POST_COMMENTS} on one post), ` +
      `then the app is restarted and every request runs ${s.warmup} s warm-up + ${s.duration} s at ${s.connections} connections (autocannon, on the same machine, request timeout ${s.requestTimeoutSeconds} s).`,
  );
  out.push('');
  out.push(`- Date: ${r.date}; ${m.nproc} CPUs, ${m.cpuModel}, ${m.memoryGb} GB RAM, Node ${m.node}; ${r.database}`);
  out.push(
    `- Load average (1 / 5 / 15 min) at the start ${m.loadAverageAtStart.join(' / ')}, at the end ${m.loadAverageAtEnd.join(' / ')}; whole run ${Math.round(r.wallSeconds / 60)} min`,
  );
  out.push(
    `- Deep page: by \`cursor\` at ${Math.round(s.deepShare * 100)}% of the posts the caller can see (built from the last post of the page before); by \`skip\` at the same place or at 10,000, the deepest \`skip\` the API takes (the run checks that the skip page and a cursor page at the same place return the same ids)`,
  );
  out.push(
    `- Searches: \`${s.searchWord}\` (a seed word, ~11% of titles) and \`${s.rareWord}\` (appended to ~25 titles per size); \`limit=10\` for posts`,
  );
  out.push(
    `- \`sort=top\`: most votes first, then newest; \`author=\`: the posts of one ordinary bench user (not the caller; about 100 posts at every size); ` +
      `comments: page 1 (\`limit=${COMMENTS_LIMIT}\`) of the post given ${HOT_POST_COMMENTS} comments (besides its share of the random ones), written last (the highest ids). ` +
      'The run checks that each of these pages is the one the EXPLAINed SQL returns',
  );
  out.push('');
  out.push('### Side by side (p50 / p99 ms, req/s)');
  out.push('');
  out.push(`| request | ${r.sizes.map((z) => `${fmt(z.posts)} posts`).join(' | ')} |`);
  out.push(`| --- | ${r.sizes.map(() => '---:').join(' | ')} |`);
  for (const key of KEYS) {
    const name = r.sizes[0].scenarios[key] && scenarioLabel(key, r);
    out.push(
      `| ${name} | ${r.sizes
        .map((z) => {
          const x = z.scenarios[key];
          return `${x.p50} / ${x.p99} ms, ${x.reqPerSec} req/s${x.note ? ` (${x.connections} conn, ${x.duration} s)¹` : ''}${x.errors ? `, **${x.errors} errors**` : ''}`;
        })
        .join(' | ')} |`,
    );
  }
  out.push(
    `| data | ${r.sizes.map((z) => `${fmt(z.users)} users, ${fmt(z.votes)} votes, ${fmt(z.comments + HOT_POST_COMMENTS)} comments`).join(' | ')} |`,
  );
  out.push(`| seeded in | ${r.sizes.map((z) => `${(z.seed.total / 1000).toFixed(1)} s`).join(' | ')} |`);
  out.push(`| deep page at skip= | ${r.sizes.map((z) => fmt(z.skip)).join(' | ')} |`);
  out.push(`| deep cursor page at | ${r.sizes.map((z) => fmt(z.deep ?? z.skip)).join(' | ')} |`);
  out.push(
    `| titles matching common / rare | ${r.sizes.map((z) => `${fmt(z.commonMatches)} / ${z.rareMatches}`).join(' | ')} |`,
  );
  out.push(`| author's posts | ${r.sizes.map((z) => `${fmt(z.authorPosts)} (\`${z.author}\`)`).join(' | ')} |`);
  out.push(
    `| comments on the post | ${r.sizes.map((z) => `${fmt(z.hotPostComments)} (post ${z.hotPost})`).join(' | ')} |`,
  );
  out.push(`| db ms/req, list | ${r.sizes.map((z) => z.scenarios.list.dbMsPerRequest ?? '–').join(' | ')} |`);
  out.push('');
  if (r.sizes.some((z) => Object.values(z.scenarios).some((x) => x.note))) {
    out.push(
      `¹ Not one response (or fewer than the connections) within the ${s.duration} s window at ${s.connections} connections: measured again at the fewer connections shown, for ${SLOW_SECONDS} s without warm-up.`,
    );
    out.push('');
  }
  const g = r.growth;
  out.push(`### Growth from ${fmt(g.smallPosts)} to ${fmt(g.largePosts)} posts`);
  out.push('');
  out.push(
    (g.interleavedRuns > 0
      ? `Each request's p50 at the largest size over its p50 at the smallest, measured side by side at the end of the run: the smallest size seeded again into a second database, one app on each, ${g.interleavedRuns} runs of each request on each size, alternating; the medians are compared (the runs' p50s in brackets). `
      : `Each request's p50 at the largest size over its p50 at the smallest (the table above). `) +
      `Beside it, the same ratio of the database's time per request (pg_stat_statements, from the table above) and of one EXPLAIN ANALYZE execution. Target: the p50 within ${g.limit}x.`,
  );
  out.push('');
  out.push('| request | p50 ms | ratio | db ms/req | ratio | EXPLAIN ms | within ' + g.limit + 'x |');
  out.push('| --- | ---: | ---: | ---: | ---: | ---: | :---: |');
  for (const row of g.rows) {
    out.push(
      `| ${scenarioLabel(row.key, r)} | ${row.smallP50} → ${row.largeP50}${row.interleaved ? ` (${row.interleaved.small.p50s.join(', ')} → ${row.interleaved.large.p50s.join(', ')})` : ''} | ${row.ratio} | ${row.smallDbMs ?? '–'} → ${row.largeDbMs ?? '–'} | ${row.dbRatio ?? '–'} | ${row.smallExplainMs} → ${row.largeExplainMs} | ${row.within ? '✅' : '❌'} |`,
    );
  }
  out.push('');
  out.push(
    `**${g.all ? `✅ every request within ${g.limit}x` : `❌ not every request within ${g.limit}x`}.** ` +
      `Deep page by cursor vs page 1 at ${fmt(r.sizes.at(-1).posts)} posts: p50 ${r.sizes.at(-1).scenarios.deepCursor.p50} vs ${r.sizes.at(-1).scenarios.list.p50} ms; by skip: ${r.sizes.at(-1).scenarios.deepSkip.p50} ms.`,
  );
  out.push('');

  if (r.indexPhase) {
    const big = r.sizes.at(-1);
    out.push(`### With and without each index, at ${fmt(big.posts)} posts`);
    out.push('');
    out.push(
      `Each index is dropped (a plain \`DROP INDEX\`, then \`ANALYZE\`), the requests it serves are EXPLAINed and measured, and it is recreated with the migration's definition. ` +
        `Both columns ran at ${r.indexPhase.connections} connections${fewerConnections(r.indexPhase)}, ${r.indexPhase.duration} s each: ` +
        `latencies here are not comparable with the ${s.connections}-connection table above. "EXPLAIN ms" is one execution on an idle server.`,
    );
    out.push('');
    out.push(
      '| index dropped | request | with: p50 / p99 ms, req/s | without: p50 / p99 ms, req/s | EXPLAIN ms with → without | plan without the index |',
    );
    out.push('| --- | --- | ---: | ---: | ---: | --- |');
    for (const step of r.indexPhase.steps) {
      for (const row of step.rows) {
        const w = row.with;
        const wo = row.without;
        out.push(
          `| \`${step.index}\` (recreated in ${(step.recreateMs / 1000).toFixed(1)} s) | ${row.name} | ${w.p50} / ${w.p99}, ${w.reqPerSec} (${w.connections} conn, ${w.duration} s${w.note ? ')¹' : ')'} | ` +
            `${wo.p50} / ${wo.p99}, ${wo.reqPerSec} (${wo.connections} conn, ${wo.duration} s${wo.note ? ')¹' : ')'}${wo.errors ? `, **${wo.errors} errors**` : ''} | ` +
            `${big.plans[row.key].executionMs} → ${row.withoutPlan.executionMs} | ${escapeCell(planCell(row.withoutPlan))} |`,
        );
      }
    }
    out.push('');
    const slow = r.indexPhase.steps.flatMap((step) => step.rows).filter((row) => row.with.note || row.without.note);
    if (slow.length > 0) {
      out.push(
        `¹ Fewer responses than connections in the ${r.indexPhase.duration} s window (or one execution too slow to hope for them): measured for ${SLOW_SECONDS} s without warm-up.`,
      );
      out.push('');
    }
    const refused = slow.filter((row) => row.without.errors > 0);
    if (
      refused.length > 0 &&
      refused.every((row) => Object.keys(row.without.statuses ?? {}).every((s) => ['200', '503'].includes(s)))
    ) {
      out.push(
        `Errors without an index are 503 answers: the app's statement timeout (\`DATABASE_STATEMENT_TIMEOUT_MS\`, 5,000 ms by default) stopped the scan and the client got a 503 with \`Retry-After\`; their p50 is that timeout.`,
      );
      out.push('');
    }
  }

  out.push("### EXPLAIN (ANALYZE, BUFFERS) of the app's SQL");
  out.push('');
  out.push(
    "The statements `posts.queries.ts` and `comments.queries.ts` build and the app sends, with the same parameters as the requests above (bound, like the app's unnamed statements), second of two runs " +
      '(for comments, the page itself: the route first looks the post up by its primary key). ' +
      '"read" counts the rows a scan node produced plus those its filter removed, over all loops. ' +
      `The texts were ${r.sizes.every((z) => z.sqlMatchesApp.all) ? 'found verbatim in pg_stat_statements after the requests: the app ran exactly this SQL' : '**not all found in pg_stat_statements** (see scale-results.json)'}.`,
  );
  out.push('');
  out.push(`| request | ${r.sizes.map((z) => `${fmt(z.posts)} posts`).join(' | ')} |`);
  out.push(`| --- | ${r.sizes.map(() => '---').join(' | ')} |`);
  for (const key of KEYS) {
    out.push(`| ${scenarioLabel(key, r)} | ${r.sizes.map((z) => escapeCell(planCell(z.plans[key]))).join(' | ')} |`);
  }
  out.push('');
  out.push(...findings(r).map((f) => `- ${f}`));
  out.push('');
  return `${out.join('\n')}\n`;
}

function scenarioLabel(key, r) {
  return {
    list: '`GET /posts?limit=10`',
    deepSkip: 'deep page, `skip`',
    deepCursor: 'deep page, `cursor`',
    searchCommon: `search \`${r.settings.searchWord}\``,
    searchRare: `search \`${r.settings.rareWord}\``,
    top: '`GET /posts?sort=top&limit=10`',
    author: '`GET /posts?author=…&limit=10`',
    comments: `\`GET /posts/{id}/comments?limit=${COMMENTS_LIMIT}\``,
  }[key];
}

function fewerConnections(phase) {
  const fewer = phase.steps.filter((step) => step.connections !== phase.connections);
  return fewer.map((step) => ` (${step.connections} for \`${step.index}\`)`).join('');
}

function planCell(p) {
  const scans = p.scans
    .filter(shownScan)
    .map((s) => `${s.node}${s.loops > 1 ? ` ×${s.loops}` : ''}: ${fmt(s.rowsRead)} read`);
  return `**${p.executionMs} ms**, top ${p.top}; ${scans.join('; ')}${p.sorts.length ? `; sort ${p.sorts.join(', ')}` : ''}`;
}

function escapeCell(text) {
  return text.replace(/\|/g, '\\|');
}

/** Plain sentences from the plans: does anything read all votes, or most posts? */
function findings(r) {
  const lines = [];
  for (const z of r.sizes) {
    const heavy = [];
    for (const key of KEYS) {
      const p = z.plans[key];
      const votesRead = p.scans.filter((s) => s.relation === 'votes').reduce((n, s) => n + s.rowsRead, 0);
      const postsRead = rowsRead(p, 'posts');
      const commentsRead = rowsRead(p, 'comments');
      if (votesRead >= z.votes * 0.5) heavy.push(`${key} reads ${fmt(votesRead)} votes`);
      if (postsRead >= z.posts * 0.1) heavy.push(`${key} reads ${fmt(postsRead)} posts`);
      if (commentsRead >= z.comments * 0.1) heavy.push(`${key} reads ${fmt(commentsRead)} comments`);
    }
    const perPage = PAGE_KEYS.map(
      (key) => `${key} ${fmt(rowsRead(z.plans[key], key === 'comments' ? 'comments' : 'posts'))}`,
    );
    lines.push(
      `${fmt(z.posts)} posts: ${heavy.length ? heavy.join(', ') : 'no plan reads more than 10% of the posts or of the comments, or half of the votes'}; ` +
        `rows read for one page (posts, or comments for comments; a page is 10, or ${COMMENTS_LIMIT + 1} comments): ${perPage.join(', ')}; ` +
        `votes read by page 1 (\`voted\`): ${describeVotes(z.plans.list)}.`,
    );
  }
  return lines;
}

function rowsRead(plan, relation) {
  return plan.scans.filter((s) => s.relation === relation).reduce((n, s) => n + s.rowsRead, 0);
}

function describeVotes(plan) {
  const v = plan.scans.filter((s) => s.relation === 'votes');
  return v.length ? v.map((s) => `${s.node} ×${s.loops} (${fmt(s.rowsRead)} rows)`).join(', ') : 'none';
}

// ---------------------------------------------------------------------------------------

let exitCode = 1;
try {
  exitCode = await main();
} catch (error) {
  if (!stoppingSignal()) console.error(`\nscale benchmark failed: ${error?.stack ?? error}`);
} finally {
  await runCleanup();
}
process.exit(exitCode);
