// Command-line flags and BENCH_* environment variables, resolved once into one object.
// Flags win over the environment; smoke mode only changes the defaults.
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Keep in step with the `start:prod` script of package.json. */
export const START_PROD_NODE_ARGS = ['--max-semi-space-size=4', '--max-old-space-size=256'];

export const BENCH_DIR = dirname(dirname(fileURLToPath(import.meta.url)));
export const PROJECT_DIR = dirname(BENCH_DIR);

/** Data sizes at BENCH_SCALE=1: what the issue asks seeding to handle in under a minute. */
const FULL_SIZES = { users: 1_000, posts: 100_000, votes: 500_000, comments: 200_000 };
/** Tiny data for CI: enough rows for every scenario, seeded in well under a second. */
const SMOKE_SIZES = { users: 20, posts: 500, votes: 1_000, comments: 1_000 };

/** The scenario keys `--only` accepts (defined in scenarios.mjs). */
export const SCENARIO_KEYS = [
  'list',
  'get',
  'search',
  'top',
  'author',
  'comments',
  'unauthorized',
  'create',
  'comment',
  'vote',
  'login',
];

const USAGE = `Usage: node bench/run.mjs [--smoke] [--scale X] [--users N] [--posts N] [--votes N] [--comments N]
       [--duration S] [--warmup S] [--connections N] [--runs N] [--only a,b] [--out DIR] [--log-compare]

Environment (flags win): BENCH_SCALE, BENCH_USERS, BENCH_POSTS, BENCH_VOTES, BENCH_COMMENTS, BENCH_DURATION,
BENCH_WARMUP, BENCH_CONNECTIONS, BENCH_RUNS, BENCH_ONLY, BENCH_OUT, BENCH_SEARCH,
BENCH_BCRYPT_SECONDS, BENCH_APP_NODE_ARGS, BENCH_APP_ENV, BENCH_LOG_COMPARE, BENCH_BARE, BCRYPT_ROUNDS, DATABASE_POOL_SIZE, DATABASE_URL, UV_THREADPOOL_SIZE.
See bench/README.md.`;

/** `--name value` and `--name=value` pairs, plus bare `--flag` booleans. */
function parseArgv(argv) {
  const flags = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      throw new Error(`Unexpected argument "${arg}"\n${USAGE}`);
    }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2);
    if (name === 'smoke' || name === 'help' || name === 'log-compare') {
      flags[name] = true;
    } else if (inline !== undefined) {
      flags[name] = inline;
    } else if (i + 1 < argv.length) {
      flags[name] = argv[++i];
    } else {
      throw new Error(`--${name} needs a value\n${USAGE}`);
    }
  }
  return flags;
}

/** A number from a flag or an environment variable, checked against a range. */
function numberOption(raw, fallback, { name, min, max, integer = true }) {
  if (raw === undefined || raw === '') {
    return fallback;
  }
  const value = Number(raw);
  if (!Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
    throw new Error(`${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max} (got "${raw}")`);
  }
  return value;
}

export function parseOptions(argv = process.argv.slice(2), env = process.env) {
  const flags = parseArgv(argv);
  if (flags.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const smoke = flags.smoke === true;
  const pick = (flag, variable) => flags[flag] ?? env[variable];

  const scale = numberOption(pick('scale', 'BENCH_SCALE'), 1, {
    name: 'BENCH_SCALE',
    min: 0.001,
    max: 100,
    integer: false,
  });
  const base = smoke ? SMOKE_SIZES : FULL_SIZES;
  const scaled = (n) => Math.max(1, Math.round(n * scale));
  const users = numberOption(pick('users', 'BENCH_USERS'), scaled(base.users), {
    name: 'BENCH_USERS',
    min: 2,
    max: 10_000_000,
  });
  const posts = numberOption(pick('posts', 'BENCH_POSTS'), scaled(base.posts), {
    name: 'BENCH_POSTS',
    min: 10,
    max: 100_000_000,
  });
  const votes = numberOption(pick('votes', 'BENCH_VOTES'), scaled(base.votes), {
    name: 'BENCH_VOTES',
    min: 0,
    max: 1_000_000_000,
  });
  const comments = numberOption(pick('comments', 'BENCH_COMMENTS'), scaled(base.comments), {
    name: 'BENCH_COMMENTS',
    min: 0,
    max: 1_000_000_000,
  });
  if (votes > users * posts) {
    throw new Error(`BENCH_VOTES (${votes}) cannot exceed users x posts (${users * posts}): each pair votes once`);
  }

  const only = (pick('only', 'BENCH_ONLY') ?? '')
    .split(',')
    .map((key) => key.trim())
    .filter(Boolean);
  const unknown = only.filter((key) => !SCENARIO_KEYS.includes(key));
  if (unknown.length > 0) {
    throw new Error(`unknown scenario ${unknown.join(', ')}: choose from ${SCENARIO_KEYS.join(', ')}`);
  }

  const appEnv = parseAppEnv(env.BENCH_APP_ENV ?? '');
  const poolSize = numberOption(env.DATABASE_POOL_SIZE, 10, { name: 'DATABASE_POOL_SIZE', min: 1, max: 200 });
  return {
    smoke,
    sizes: { users, posts, votes, comments, scale },
    duration: numberOption(pick('duration', 'BENCH_DURATION'), smoke ? 1 : 10, {
      name: 'BENCH_DURATION',
      min: 1,
      max: 600,
    }),
    warmup: numberOption(pick('warmup', 'BENCH_WARMUP'), smoke ? 1 : 3, { name: 'BENCH_WARMUP', min: 0, max: 120 }),
    connections: numberOption(pick('connections', 'BENCH_CONNECTIONS'), 32, {
      name: 'BENCH_CONNECTIONS',
      min: 1,
      max: 1000,
    }),
    runs: numberOption(pick('runs', 'BENCH_RUNS'), 1, { name: 'BENCH_RUNS', min: 1, max: 20 }),
    only,
    // Smoke runs never overwrite the committed results.
    outDir: pick('out', 'BENCH_OUT') || (smoke ? join(tmpdir(), 'posts-api-bench-smoke') : BENCH_DIR),
    searchWord: env.BENCH_SEARCH || 'garden',
    bcryptSeconds: numberOption(env.BENCH_BCRYPT_SECONDS, smoke ? 1 : 5, {
      name: 'BENCH_BCRYPT_SECONDS',
      min: 1,
      max: 120,
    }),
    // The app's default cost in a real run; the cheapest cost in smoke mode, where only "it works" counts.
    bcryptRounds: numberOption(env.BCRYPT_ROUNDS, smoke ? 4 : 12, { name: 'BCRYPT_ROUNDS', min: 4, max: 15 }),
    poolSize,
    // The app does not set UV_THREADPOOL_SIZE itself, so it runs with what it inherits (libuv's default is 4).
    threadpoolSize: numberOption(env.UV_THREADPOOL_SIZE, 4, { name: 'UV_THREADPOOL_SIZE', min: 1, max: 1024 }),
    databaseUrl: env.DATABASE_URL || undefined,
    // The app runs with the node flags of `npm run start:prod` (V8's semi-spaces capped at
    // 4 MB and its old generation at 256 MB: see "Speed" in the README),
    // plus any extra ones, e.g. "--prof --logfile=/tmp/app.log" to profile it under load.
    appNodeArgs: [...START_PROD_NODE_ARGS, ...(env.BENCH_APP_NODE_ARGS ?? '').split(/\s+/).filter(Boolean)],
    // Extra environment for the app (both app processes), e.g. "SESSION_CACHE=false".
    appEnv,
    // A second app process at LOG_LEVEL=info, its stdout to a file, measured on every app
    // scenario next to the LOG_LEVEL=warn one.
    logCompare: flags['log-compare'] === true || isOn(env.BENCH_LOG_COMPARE),
    // The baseline without the session lookup, on the shared reads and the 401 path.
    bare: env.BENCH_BARE === undefined || env.BENCH_BARE === '' ? true : isOn(env.BENCH_BARE),
  };
}

function isOn(raw) {
  return raw !== undefined && ['1', 'true', 'yes', 'on'].includes(raw.trim().toLowerCase());
}

/** "NAME=value NAME2=value2" (values without spaces) into an object. */
function parseAppEnv(raw) {
  const env = {};
  for (const pair of raw.split(/\s+/).filter(Boolean)) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(pair);
    if (!match) {
      throw new Error(`BENCH_APP_ENV must be NAME=value pairs separated by spaces (got "${pair}")`);
    }
    env[match[1]] = match[2];
  }
  return env;
}
