// The scenarios, and how one is run with autocannon and boiled down to the numbers
// that matter: req/s, p50, p99 and errors (statuses the scenario does not expect,
// socket errors and timeouts).
import autocannon from 'autocannon';

/** Requests that may take this long count as timeouts (autocannon's default, made explicit). */
const TIMEOUT_SECONDS = 10;

const pick = (ids) => ids[Math.floor(Math.random() * ids.length)];

/**
 * `both`: run against the app and the baseline; otherwise the app only.
 * `bare`: also against the baseline without the session lookup (the reads and the 401 path).
 * `expected`: the statuses that are a correct answer in this scenario.
 * `sample`: one request of the scenario, sent to both servers before the measurements
 * to check that they answer alike (lib/same-answers.mjs).
 */
export function defineScenarios({ token, voterTokens, ids, searchWord, hotPost, author, loginEmail, password }) {
  const auth = { authorization: `Bearer ${token}` };
  const json = { 'content-type': 'application/json' };
  return [
    {
      key: 'list',
      bare: true,
      name: 'GET /posts?limit=10',
      both: true,
      expected: [200],
      requests: [{ method: 'GET', path: '/posts?limit=10', headers: auth }],
      sample: { method: 'GET', path: '/posts?limit=10' },
    },
    {
      key: 'get',
      bare: true,
      name: 'GET /posts/{id}',
      both: true,
      expected: [200],
      // A random post the caller can see, per request: no single hot row in a cache.
      requests: [
        { method: 'GET', headers: auth, setupRequest: (req) => ({ ...req, path: `/posts/${pick(ids.visible)}` }) },
      ],
      sample: { method: 'GET', path: `/posts/${hotPost}` },
    },
    {
      key: 'search',
      bare: true,
      name: `GET /posts?search=${searchWord}`,
      both: true,
      expected: [200],
      requests: [{ method: 'GET', path: `/posts?search=${encodeURIComponent(searchWord)}`, headers: auth }],
      sample: { method: 'GET', path: `/posts?search=${encodeURIComponent(searchWord)}` },
    },
    {
      key: 'top',
      bare: true,
      name: 'GET /posts?sort=top&limit=10',
      both: true,
      expected: [200],
      requests: [{ method: 'GET', path: '/posts?sort=top&limit=10', headers: auth }],
      sample: { method: 'GET', path: '/posts?sort=top&limit=10' },
    },
    {
      key: 'author',
      bare: true,
      name: `GET /posts?author=${author}&limit=10`,
      both: true,
      expected: [200],
      requests: [{ method: 'GET', path: `/posts?author=${encodeURIComponent(author)}&limit=10`, headers: auth }],
      sample: { method: 'GET', path: `/posts?author=${encodeURIComponent(author)}&limit=10` },
    },
    {
      key: 'comments',
      bare: true,
      name: 'GET /posts/{hot}/comments?limit=20',
      both: true,
      expected: [200],
      // The first page of the post with the most comments (the seed's hot post).
      requests: [{ method: 'GET', path: `/posts/${hotPost}/comments?limit=20`, headers: auth }],
      sample: { method: 'GET', path: `/posts/${hotPost}/comments?limit=20` },
    },
    {
      key: 'unauthorized',
      bare: true,
      name: 'GET /posts, no token (401)',
      both: true,
      expected: [401],
      requests: [{ method: 'GET', path: '/posts' }],
    },
    {
      key: 'create',
      name: 'POST /posts',
      both: false,
      expected: [201],
      requests: [
        {
          method: 'POST',
          path: '/posts',
          headers: { ...auth, ...json },
          body: JSON.stringify({ title: 'Bench garden post', content: 'Written by the benchmark.', published: true }),
        },
      ],
    },
    {
      key: 'comment',
      name: 'POST /posts/{id}/comments',
      both: true,
      expected: [201],
      // A random published post per request: every comment also adds one to its post's
      // comments_count (a trigger), and one hot row would measure that row lock instead.
      requests: [
        {
          method: 'POST',
          headers: { ...auth, ...json },
          body: JSON.stringify({ content: 'Written by the benchmark.' }),
          setupRequest: (req) => ({ ...req, path: `/posts/${pick(ids.published)}/comments` }),
        },
      ],
      sample: {
        method: 'POST',
        path: `/posts/${hotPost}/comments`,
        body: { content: '  Written by the benchmark.  ' },
      },
    },
    {
      key: 'vote',
      name: 'POST /vote (toggle)',
      both: false,
      // 201 added / 200 removed are the toggle; 409 and 404 happen when two connections
      // pick the same pair, or a pair the seed already voted: correct answers, not errors.
      expected: [200, 201, 404, 409],
      // autocannon keeps `context` across the requests of this list (per connection) and
      // resets it when the list starts over: each pair of requests votes, then unvotes.
      requests: [
        {
          method: 'POST',
          path: '/vote',
          setupRequest: (req, context) => {
            context.voter = pick(voterTokens);
            context.postId = pick(ids.published);
            return voteRequest(req, context, 1);
          },
        },
        { method: 'POST', path: '/vote', setupRequest: (req, context) => voteRequest(req, context, 0) },
      ],
    },
    {
      key: 'login',
      name: 'POST /login',
      both: false,
      expected: [200],
      // Logins queue for bcrypt: at cost 12 on 2 cores, 32 of them take seconds to get
      // through, which is the expected latency here, not a hang.
      timeoutSeconds: 60,
      requests: [
        {
          method: 'POST',
          path: '/login',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ username: loginEmail, password }).toString(),
        },
      ],
    },
  ];
}

function voteRequest(req, context, dir) {
  return {
    ...req,
    headers: { ...req.headers, authorization: `Bearer ${context.voter}`, 'content-type': 'application/json' },
    body: JSON.stringify({ post_id: context.postId, dir }),
  };
}

/**
 * One measured run of a scenario against one server, after its own warm-up (JIT,
 * connection pools, PostgreSQL's caches). `stats`, when given, counts the database
 * work of the measured part only; `phases`, the log levels' phases of that part
 * (log-phases.mjs).
 */
export async function runScenario(scenario, baseUrl, { duration, warmup, connections }, stats, phases) {
  const run = (seconds) =>
    autocannon({
      url: baseUrl,
      connections,
      duration: seconds,
      timeout: scenario.timeoutSeconds ?? TIMEOUT_SECONDS,
      // Fresh objects: autocannon keeps per-run state on them.
      requests: scenario.requests.map((request) => ({ ...request })),
    });
  let warmupResponses = 0;
  if (warmup > 0) {
    const warm = await run(warmup);
    warmupResponses = warm.requests.total;
    await drain(warm);
  }
  await stats?.reset();
  phases?.reset();
  const result = await run(duration);
  const summary = summarize(result, scenario.expected);
  if (phases) {
    summary.phases = phases.read();
  }
  // Responses of the warm-up too: a server logging every request wrote a line for each.
  summary.warmupResponses = warmupResponses;
  if (stats) {
    // Read before draining: the requests still in flight are not in the count.
    summary.db = await stats.read(result.requests.total);
  }
  await drain(result);
  return summary;
}

/**
 * When autocannon stops it closes its sockets, but the server still finishes the
 * requests it had started (up to one per connection): 32 logins at cost 12 are seconds
 * of bcrypt work. Waiting about the slowest response time lets them end before the
 * next measurement (or the bcrypt probe) starts, instead of competing with it.
 */
function drain(result) {
  const ms = Math.min(Math.max(250, result.latency.max ?? 0), 30_000);
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function summarize(result, expected) {
  const statuses = Object.fromEntries(
    Object.entries(result.statusCodeStats ?? {}).map(([status, { count }]) => [status, count]),
  );
  const unexpected = Object.entries(statuses)
    .filter(([status]) => !expected.includes(Number(status)))
    .reduce((sum, [, count]) => sum + count, 0);
  return {
    reqPerSec: round(result.requests.average, 1),
    p50: result.latency.p50,
    p99: result.latency.p99,
    // autocannon's `errors` already includes its timeouts.
    errors: unexpected + result.errors,
    unexpectedStatuses: unexpected,
    socketErrors: result.errors - result.timeouts,
    timeouts: result.timeouts,
    requests: result.requests.total,
    statuses,
  };
}

/** Several runs of the same scenario: medians for rates and latencies, sums for counts. */
export function combineRuns(runs) {
  if (runs.length === 1) {
    return runs[0];
  }
  const sum = (field) => runs.reduce((total, run) => total + run[field], 0);
  const statuses = {};
  for (const run of runs) {
    for (const [status, count] of Object.entries(run.statuses)) {
      statuses[status] = (statuses[status] ?? 0) + count;
    }
  }
  return {
    reqPerSec: median(runs.map((run) => run.reqPerSec)),
    p50: median(runs.map((run) => run.p50)),
    p99: median(runs.map((run) => run.p99)),
    errors: sum('errors'),
    unexpectedStatuses: sum('unexpectedStatuses'),
    socketErrors: sum('socketErrors'),
    timeouts: sum('timeouts'),
    requests: sum('requests'),
    warmupResponses: sum('warmupResponses'),
    statuses,
    rssMb: runs.at(-1).rssMb,
    db: runs[0].db && {
      queriesPerRequest: median(runs.map((run) => run.db.queriesPerRequest)),
      dbMsPerRequest: median(runs.map((run) => run.db.dbMsPerRequest)),
      top: runs[0].db.top,
    },
    runs: runs.map(({ reqPerSec, p50, p99, errors }) => ({ reqPerSec, p50, p99, errors })),
  };
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export function round(value, digits = 0) {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
