#!/usr/bin/env node
// `npm run bench` / `npm run bench:smoke`: starts PostgreSQL, the built app and the
// baseline, seeds the data, runs every scenario with autocannon, measures bcrypt's
// ceiling and the app's peak memory, and reports. See bench/README.md.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcrypt';
import { measureBcryptCeiling } from './lib/bcrypt-ceiling.mjs';
import { installSignalHandlers, onCleanup, onExit, runCleanup, stoppingSignal } from './lib/cleanup.mjs';
import { startDatabase, withClient } from './lib/database.mjs';
import { BENCH_DIR, parseOptions } from './lib/options.mjs';
import { APP_ENTRY, freePort, login, startApp, startServer } from './lib/processes.mjs';
import { evaluateTargets, logTextTable, summaryLines, textTable, totalErrors, writeReports } from './lib/report.mjs';
import { combineRuns, defineScenarios, round, runScenario } from './lib/scenarios.mjs';
import { BENCH_PASSWORD, HOT_POST_COMMENTS, benchEmail, loadPostIds, seed } from './lib/seed.mjs';
import { countLogLines } from './lib/log-file.mjs';
import { LOG_PHASE_MS, LOG_PHASES_PRELOAD, logPhaseProbe, poolPhases, totalPhases } from './lib/log-phases.mjs';
import { compareAnswers } from './lib/same-answers.mjs';
import { openStatementStats } from './lib/statement-stats.mjs';

const BASELINE_ENTRY = join(BENCH_DIR, 'baseline', 'server.mjs');
/** How many bench users vote in POST /vote (each needs one login). */
const VOTERS = 8;

const log = (message) => console.log(message);

async function main() {
  const options = parseOptions();
  installSignalHandlers();
  // Other work on the box (tests, builds) shows up here, and in noisy numbers.
  const loadAtStart = os.loadavg().map((value) => round(value, 2));
  if (!existsSync(APP_ENTRY)) {
    throw new Error(`${APP_ENTRY} is missing: build first (npm run bench does: nest build && node bench/run.mjs)`);
  }
  const { users, posts, votes, comments } = options.sizes;
  log(
    `posts-api benchmark${options.smoke ? ' (smoke)' : ''}: ${users} users, ${posts} posts, ${votes} votes, ${comments} comments; ` +
      `${options.connections} connections, ${options.warmup} s warm-up + ${options.duration} s per scenario, ${options.runs} run(s)`,
  );

  const database = await startDatabase(options);
  log(`database: ${database.describe}`);
  // The app and the baseline share one random secret, so one token works on both.
  const jwtSecret = randomBytes(48).toString('base64url');
  const scratch = await mkdtemp(join(os.tmpdir(), 'posts-api-bench-app-'));
  onCleanup('remove the app folder', () => rm(scratch, { recursive: true, force: true }));
  onExit(() => rmSync(scratch, { recursive: true, force: true }));

  const app = await startApp({
    options,
    databaseUrl: database.url,
    jwtSecret,
    scratch,
    nodeArgs: options.appNodeArgs,
    // The POST /login scenario is one client sending thousands of right passwords for one
    // account, 32 at a time; the brute-force limits (100 attempts per client address per
    // window, and 5 attempts in flight or failed per account and address, since each
    // attempt counts as a failure until it succeeds) would turn it into a 429 benchmark.
    // 100,000 and 1,000 are the largest values the app accepts.
    env: appEnv(options),
  });
  log(
    `app: pid ${app.pid} on ${app.url}` +
      (Object.keys(options.appEnv).length > 0 ? ` (BENCH_APP_ENV: ${describeEnv(options.appEnv)})` : ''),
  );

  // Rows of a shared database (DATABASE_URL without CREATE DATABASE) are tagged and deleted afterwards.
  const tag = database.shared ? randomBytes(3).toString('hex') : 'run';
  const passwordHash = await bcrypt.hash(BENCH_PASSWORD, options.bcryptRounds);
  if (database.shared) {
    onCleanup('delete the bench rows', () =>
      withClient(database.url, (client) => client.query('DELETE FROM users WHERE email LIKE $1', [`bench-${tag}-%`])),
    );
  }
  const seeded = await seed(database.url, { sizes: options.sizes, passwordHash, tag });
  log(`seeded in ${(seeded.timings.total / 1000).toFixed(1)} s ${JSON.stringify(seeded.timings)}`);

  const baseline = await startBaseline(options, database.url, jwtSecret);
  log(`baseline: pid ${baseline.pid} on ${baseline.url}`);
  // The same baseline without the session lookup: the caller from the token's claims.
  const bare = options.bare
    ? await startBaseline(options, database.url, jwtSecret, { name: 'bare', env: { BASELINE_SESSION_LOOKUP: 'false' } })
    : undefined;
  if (bare) log(`bare baseline (no session lookup): pid ${bare.pid} on ${bare.url}`);
  // A second app process whose level switches between warn and info every 250 ms (see
  // log-phases.mjs), its stdout to a file (started after the first one has run the
  // migrations). Idle while another server is measured.
  let appLog;
  let logFile;
  let phasesFile;
  if (options.logCompare) {
    logFile = join(scratch, 'app-log.log');
    phasesFile = join(scratch, 'app-log-phases.json');
    appLog = await startApp({
      options,
      databaseUrl: database.url,
      jwtSecret,
      scratch: await mkdtemp(join(scratch, 'log-')),
      nodeArgs: [...options.appNodeArgs, '--require', LOG_PHASES_PRELOAD],
      env: { ...appEnv(options), LOG_LEVEL: 'info', BENCH_LOG_PHASES_FILE: phasesFile, BENCH_LOG_PHASE_MS: String(LOG_PHASE_MS) },
      name: 'app-log',
      stdoutFile: logFile,
    });
    appLog.phases = logPhaseProbe(phasesFile);
    log(
      `app switching between LOG_LEVEL=warn and info every ${LOG_PHASE_MS} ms: pid ${appLog.pid} on ${appLog.url}, ` +
        `stdout to ${logFile}`,
    );
  }

  // Logins run in parallel: at cost 12 each takes a few hundred ms.
  const voterCount = Math.min(VOTERS, users);
  const emails = Array.from({ length: voterCount }, (_, i) => benchEmail(tag, i + 1));
  const tokens = await Promise.all(emails.map((email) => login(app.url, email)));
  const tokenHasSessionId = decodeJwtPayload(tokens[0]).sid !== undefined;
  const ids = await loadPostIds(database.url, seeded.users.first);
  const author = await pickAuthor(database.url, tag, seeded.users.first);
  log(`author: ${author.username} (${author.posts} posts); hot post: ${seeded.hotPost}`);
  const stats = await openStatementStats(database.url);
  const idleRssMb = app.rssMb();

  const scenarios = defineScenarios({
    token: tokens[0],
    voterTokens: tokens,
    ids,
    searchWord: options.searchWord,
    hotPost: seeded.hotPost,
    author: author.username,
    loginEmail: emails[0],
    password: BENCH_PASSWORD,
  }).filter((s) => options.only.length === 0 || options.only.includes(s.key));
  const differences = await compareAnswers(scenarios, app, baseline, tokens[0]);
  if (bare) differences.push(...(await compareAnswers(scenarios, app, bare, tokens[0], (s) => s.bare)));
  if (differences.length > 0) {
    throw new Error(`the baseline does not answer as the app does:\n  ${differences.join('\n  ')}`);
  }
  const measured = [];
  let bcryptCeiling;
  for (const scenario of scenarios) {
    if (scenario.key === 'login') {
      // Right before the login scenario, while the app is idle: on a shared machine the
      // two numbers of the ratio should see the same background load.
      log('measuring bcrypt ceiling...');
      bcryptCeiling = await measureBcryptCeiling({
        rounds: options.bcryptRounds,
        seconds: options.bcryptSeconds,
        threadpoolSize: options.threadpoolSize,
        concurrency: options.connections,
      });
      log(`  bcrypt ceiling: ${bcryptCeiling.comparesPerSec} compares/s`);
    }
    measured.push(
      await measureScenario(
        scenario,
        { app, appLog, baseline: scenario.both ? baseline : undefined, bare: scenario.bare ? bare : undefined },
        options,
        stats,
      ),
    );
  }
  let logCompare;
  if (appLog) {
    // Stopped first: it writes its last lines and its last phase at exit. VmHWM is gone after that.
    const peakRssMb = appLog.peakRssMb();
    await appLog.stop();
    const counted = await countLogLines(logFile);
    const phases = totalPhases(phasesFile);
    // Every response finished in an info phase wrote a request line; none of a warn phase did.
    const infoResponses = phases.info.responses;
    logCompare = {
      ...counted,
      infoResponses,
      warnResponses: phases.warn.responses,
      onePerRequest: Math.abs(counted.requestLines - infoResponses) <= 50,
      peakRssMb,
      stderrLines: appLog.output.count,
    };
    log(
      `the app switching levels wrote ${counted.lines} line(s), ${counted.requestLines} request line(s), for ` +
        `${infoResponses} responses finished at info (and ${phases.warn.responses} at warn)`,
    );
  }
  const loginResult = measured.find((s) => s.key === 'login');
  const loginToCeiling = loginResult && round(loginResult.app.reqPerSec / bcryptCeiling.comparesPerSec, 3);

  const results = {
    date: new Date().toISOString(),
    mode: options.smoke ? 'smoke' : 'full',
    machine: { ...machineInfo(), loadAverageAtStart: loadAtStart },
    database: database.describe,
    sizes: { users, posts, votes, comments, hotPostComments: HOT_POST_COMMENTS },
    seed: { timings: seeded.timings },
    settings: {
      connections: options.connections,
      duration: options.duration,
      warmup: options.warmup,
      runs: options.runs,
      poolSize: options.poolSize,
      bcryptRounds: options.bcryptRounds,
      threadpoolSize: options.threadpoolSize,
      searchWord: options.searchWord,
      author: author.username,
      authorPosts: author.posts,
      hotPost: seeded.hotPost,
      appEnv: options.appEnv,
      logCompare: options.logCompare,
      bare: Boolean(bare),
    },
    tokenHasSessionId,
    scenarios: measured,
    bcrypt: bcryptCeiling,
    loginToCeiling,
    app: {
      idleRssMb,
      peakRssMb: app.peakRssMb(),
      loggedLines: app.output.count,
      lastLogLines: app.output.lines.slice(-5),
    },
    baseline: { peakRssMb: baseline.peakRssMb() },
    bare: bare && { peakRssMb: bare.peakRssMb() },
    logCompare,
  };
  const targets = evaluateTargets(results);

  log('');
  log(textTable(results));
  log('');
  for (const line of summaryLines(results)) log(line);
  const logTable = logTextTable(results);
  if (logTable) {
    log('\nrequest logging, LOG_LEVEL=info against warn:');
    log(logTable);
  }
  if (results.app.loggedLines > 0) {
    log(
      `app printed ${results.app.loggedLines} log line(s) at LOG_LEVEL=warn; the last:\n  ${results.app.lastLogLines.join('\n  ')}`,
    );
  }
  log('');
  for (const target of targets) {
    log(`${target.pass === undefined ? ' -  ' : target.pass ? 'PASS' : 'FAIL'}  ${target.name}: ${target.detail}`);
  }
  const written = await writeReports(results, targets, options.outDir);
  log(`\nwrote ${written.json} and ${written.markdown}`);

  const errors = totalErrors(results);
  if (errors > 0) {
    console.error(
      `\n${errors} error(s): see the statuses column (expected statuses per scenario are in bench/README.md)`,
    );
    return 1;
  }
  return 0;
}

/** The app's environment besides the defaults of startApp: the login limits, then BENCH_APP_ENV. */
function appEnv(options) {
  return {
    LOGIN_MAX_ATTEMPTS_PER_CLIENT: process.env.LOGIN_MAX_ATTEMPTS_PER_CLIENT ?? '100000',
    LOGIN_MAX_FAILURES: process.env.LOGIN_MAX_FAILURES ?? '1000',
    ...options.appEnv,
  };
}

function describeEnv(env) {
  return Object.entries(env)
    .map(([name, value]) => `${name}=${value}`)
    .join(' ');
}

function startBaseline(options, databaseUrl, jwtSecret, { name = 'baseline', env = {} } = {}) {
  return freePort().then((port) =>
    startServer({
      name,
      script: BASELINE_ENTRY,
      cwd: BENCH_DIR,
      port,
      env: {
        ...process.env,
        NODE_ENV: 'production',
        PORT: String(port),
        DATABASE_URL: databaseUrl,
        JWT_SECRET: jwtSecret,
        DATABASE_POOL_SIZE: String(options.poolSize),
        ...env,
      },
    }),
  );
}

/**
 * The bench user with the lowest id after the caller who has posts, for GET /posts?author=:
 * another user's posts, so the page holds only published ones, as for most readers.
 */
async function pickAuthor(url, tag, callerId) {
  const { rows } = await withClient(url, (client) =>
    client.query(
      `SELECT u.username, count(*)::int AS posts FROM users u JOIN posts p ON p.owner_id = u.id
       WHERE u.email LIKE $1 AND u.id <> $2 GROUP BY u.id ORDER BY u.id LIMIT 1`,
      [`bench-${tag}-%`, callerId],
    ),
  );
  if (rows.length === 0) {
    throw new Error('no bench user besides the caller has posts: seed more posts');
  }
  return rows[0];
}

function decodeJwtPayload(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

/**
 * Runs a scenario `runs` times on each of its servers, one server at a time, interleaved
 * per run so drift on a busy box hits all alike. The two app processes (LOG_LEVEL=warn
 * and info) run next to each other, in turns first.
 */
async function measureScenario(scenario, { app, appLog, baseline, bare }, options, stats) {
  const runsOf = new Map([app, appLog, baseline, bare].filter(Boolean).map((server) => [server, []]));
  for (let run = 0; run < options.runs; run++) {
    const apps = appLog ? (run % 2 === 0 ? [app, appLog] : [appLog, app]) : [app];
    for (const server of [...apps, baseline, bare]) {
      if (!server) continue;
      if (!server.isRunning()) {
        throw new Error(`${server.name} is no longer running:\n${server.output.lines.join('\n')}`);
      }
      const result = await runScenario(scenario, server.url, options, stats, server.phases);
      // Which scenario drives the memory peak (VmHWM only grows).
      result.rssMb = { now: server.rssMb(), peak: server.peakRssMb() };
      runsOf.get(server).push(result);
      log(
        `  ${scenario.name.padEnd(30)} ${server.name.padEnd(8)} ${String(result.reqPerSec).padStart(8)} req/s  ` +
          `p50 ${result.p50} ms  p99 ${result.p99} ms  errors ${result.errors}  ${JSON.stringify(result.statuses)}  ` +
          `rss ${result.rssMb.now} MB (peak ${result.rssMb.peak})` +
          (result.db ? `  ${result.db.queriesPerRequest} queries/req, ${result.db.dbMsPerRequest} db ms/req` : '') +
          (result.phases
            ? `  warn phases ${result.phases.warn.reqPerSec} req/s, info phases ${result.phases.info.reqPerSec} req/s ` +
              `(info/warn ${result.phases.ratio})`
            : ''),
      );
    }
  }
  const combined = (server) => (server ? combineRuns(runsOf.get(server)) : undefined);
  const appResult = combined(app);
  const ratio = (other) => (other ? round(appResult.reqPerSec / other.reqPerSec, 3) : undefined);
  const baselineResult = combined(baseline);
  const bareResult = combined(bare);
  const logResult = combined(appLog);
  const logPhases = appLog ? poolPhases(runsOf.get(appLog).map((run) => run.phases)) : undefined;
  return {
    key: scenario.key,
    name: scenario.name,
    expectedStatuses: scenario.expected,
    app: appResult,
    baseline: baselineResult,
    bare: bareResult,
    appLog: logResult,
    ratio: ratio(baselineResult),
    bareRatio: ratio(bareResult),
    // The process switching levels, its runs pooled; `ratio` is info / warn: 1 when logging every request costs nothing.
    logPhases,
    logPhaseRatios: appLog ? runsOf.get(appLog).map((run) => run.phases.ratio) : undefined,
  };
}

function machineInfo() {
  let nproc;
  try {
    nproc = Number(execFileSync('nproc', { encoding: 'utf8' }).trim());
  } catch {
    nproc = os.availableParallelism();
  }
  return {
    nproc,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGb: round(os.totalmem() / 1024 ** 3, 1),
    platform: `${os.platform()} ${os.release()}`,
    node: process.version,
  };
}

let exitCode = 1;
try {
  exitCode = await main();
} catch (error) {
  if (!stoppingSignal()) {
    console.error(`\nbenchmark failed: ${error?.stack ?? error}`);
  }
} finally {
  await runCleanup();
}
process.exit(exitCode);
