// The one table (stdout and Markdown), results.json, and the targets of the issue.
import { LOG_PHASE_MS } from './log-phases.mjs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readScaleSection, withScaleSection } from './scale-section.mjs';
import { round } from './scenarios.mjs';

/** The targets (for a 2-core machine). Each returns {pass, detail} or undefined when not measured. */
export function evaluateTargets(results) {
  const byKey = Object.fromEntries(results.scenarios.map((s) => [s.key, s]));
  const targets = [];
  const ratioTarget = (s, key, field, min, against) => ({
    name: `${s?.name ?? key}: app >= ${min} x ${against} req/s`,
    pass: s?.[field] === undefined ? undefined : s[field] >= min,
    detail: s?.[field] === undefined ? 'not measured' : `ratio ${s[field].toFixed(2)}`,
  });
  for (const key of ['list', 'get']) {
    const s = byKey[key];
    targets.push(ratioTarget(s, key, 'ratio', 0.9, 'baseline'));
    targets.push(ratioTarget(s, key, 'bareRatio', 0.7, 'bare baseline (no session lookup)'));
    targets.push({
      name: `${s?.name ?? key}: app p99 < 50 ms at ${results.settings.connections} connections`,
      pass: s ? s.app.p99 < 50 : undefined,
      detail: s ? `p99 ${s.app.p99} ms` : 'not measured',
    });
  }
  const unauthorized = byKey.unauthorized;
  targets.push({
    name: '401 path: app >= 0.5 x baseline req/s',
    pass: unauthorized?.ratio === undefined ? undefined : unauthorized.ratio >= 0.5,
    detail: unauthorized?.ratio === undefined ? 'not measured' : `ratio ${unauthorized.ratio.toFixed(2)}`,
  });
  const login = byKey.login;
  targets.push({
    name: 'POST /login >= 0.9 x bcrypt ceiling',
    pass: results.loginToCeiling === undefined ? undefined : results.loginToCeiling >= 0.9,
    detail:
      results.loginToCeiling === undefined
        ? 'not measured'
        : `${login.app.reqPerSec} / ${results.bcrypt.comparesPerSec} = ${results.loginToCeiling.toFixed(2)}`,
  });
  targets.push({
    name: 'app peak RSS < 250 MB',
    pass: results.app.peakRssMb === undefined ? undefined : results.app.peakRssMb < 250,
    detail: results.app.peakRssMb === undefined ? 'not measured (no /proc)' : `${results.app.peakRssMb} MB`,
  });
  targets.push({
    name: 'app peak RSS under load <= 150 MB',
    pass: results.app.peakRssMb === undefined ? undefined : results.app.peakRssMb <= 150,
    detail: results.app.peakRssMb === undefined ? 'not measured (no /proc)' : `${results.app.peakRssMb} MB`,
  });
  const measuredLogs = results.scenarios.filter((s) => s.logPhases?.ratio !== undefined);
  const logged = measuredLogs.filter(logJudged);
  const unjudged = measuredLogs.filter((s) => !logJudged(s));
  const worst = logged.reduce(
    (low, s) => (low === undefined || s.logPhases.ratio < low.logPhases.ratio ? s : low),
    undefined,
  );
  targets.push({
    name: 'request logging at info within 10% of warn on every scenario (info/warn req/s >= 0.9, one process switching levels)',
    pass: worst === undefined ? undefined : worst.logPhases.ratio >= 0.9,
    detail:
      (worst === undefined
        ? 'not measured (BENCH_LOG_COMPARE=1)'
        : `lowest ${worst.logPhases.ratio.toFixed(2)} (${worst.name}) over ${logged.length} scenario(s)`) +
      unjudged.map((s) => `; ${s.name} not judged (p99 ${s.appLog.p99} ms, longer than a ${LOG_PHASE_MS} ms phase)`).join(''),
  });
  const lc = results.logCompare;
  targets.push({
    name: 'the app wrote one request line per response it finished at info',
    pass: lc === undefined ? undefined : lc.onePerRequest,
    detail:
      lc === undefined
        ? 'not measured (BENCH_LOG_COMPARE=1)'
        : `${lc.requestLines} request lines for ${lc.infoResponses} responses at info (${lc.warnResponses} at warn)`,
  });
  const errors = totalErrors(results);
  targets.push({
    name: 'no errors (unexpected statuses, socket errors, timeouts) in any scenario',
    pass: errors === 0,
    detail: `${errors} errors`,
  });
  return targets;
}

export function totalErrors(results) {
  return results.scenarios.reduce(
    (sum, s) => sum + s.app.errors + (s.baseline?.errors ?? 0) + (s.bare?.errors ?? 0) + (s.appLog?.errors ?? 0),
    0,
  );
}

/** One row per scenario and server. */
function rows(results) {
  const out = [];
  for (const s of results.scenarios) {
    out.push(row(s.name, 'app', s.app, s.ratio, s.bareRatio));
    if (s.baseline) {
      out.push(row('', 'baseline', s.baseline));
    }
    if (s.bare) {
      out.push(row('', 'bare', s.bare));
    }
  }
  return out;
}

function row(scenario, server, m, ratio, bareRatio) {
  return {
    scenario,
    server,
    reqPerSec: m.reqPerSec.toFixed(1),
    p50: String(m.p50),
    p99: String(m.p99),
    errors: String(m.errors),
    ratio: ratio === undefined ? '' : ratio.toFixed(2),
    bareRatio: bareRatio === undefined ? '' : bareRatio.toFixed(2),
    queries: m.db ? String(m.db.queriesPerRequest) : '',
    dbMs: m.db ? m.db.dbMsPerRequest.toFixed(2) : '',
    rss: m.rssMb ? `${m.rssMb.now}/${m.rssMb.peak}` : '',
    statuses: Object.entries(m.statuses)
      .map(([status, count]) => `${status}:${count}`)
      .join(' '),
  };
}

const COLUMNS = [
  ['scenario', 'scenario'],
  ['server', 'server'],
  ['reqPerSec', 'req/s'],
  ['p50', 'p50 ms'],
  ['p99', 'p99 ms'],
  ['errors', 'errors'],
  ['ratio', 'app/baseline'],
  ['bareRatio', 'app/bare'],
  ['queries', 'queries/req'],
  ['dbMs', 'db ms/req'],
  ['rss', 'RSS MB now/peak'],
  ['statuses', 'statuses'],
];
const NUMERIC = new Set(['reqPerSec', 'p50', 'p99', 'errors', 'ratio', 'bareRatio', 'queries', 'dbMs', 'rss']);

export function textTable(results) {
  return plainTable(rows(results), COLUMNS, NUMERIC);
}

function plainTable(data, COLUMNS, NUMERIC) {
  const widths = COLUMNS.map(([key, title]) => Math.max(title.length, ...data.map((r) => r[key].length)));
  const line = (cells) =>
    cells.map((cell, i) => (NUMERIC.has(COLUMNS[i][0]) ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ');
  return [
    line(COLUMNS.map(([, title]) => title)),
    line(widths.map((w) => '-'.repeat(w))),
    ...data.map((r) => line(COLUMNS.map(([key]) => r[key]))),
  ].join('\n');
}

function markdownTable(results) {
  return markdownOf(rows(results), COLUMNS, NUMERIC);
}

function markdownOf(data, COLUMNS, NUMERIC) {
  const align = COLUMNS.map(([key]) => (NUMERIC.has(key) ? '---:' : '---'));
  return [
    `| ${COLUMNS.map(([, title]) => title).join(' | ')} |`,
    `| ${align.join(' | ')} |`,
    ...data.map((r) => `| ${COLUMNS.map(([key]) => r[key]).join(' | ')} |`),
  ].join('\n');
}

/** The app's info phases next to its warn phases, per scenario (BENCH_LOG_COMPARE=1). */
function logRows(results) {
  return results.scenarios
    .filter((s) => s.logPhases)
    .map((s) => ({
      scenario: s.name,
      warn: fixed(s.logPhases.warn.reqPerSec, 1),
      info: fixed(s.logPhases.info.reqPerSec, 1),
      ratio: fixed(s.logPhases.ratio, 2) + (logJudged(s) ? '' : ' (not judged)'),
      runs: s.logPhaseRatios.map((ratio) => fixed(ratio, 2)).join(' '),
      warnCpu: fixed(s.logPhases.warn.cpuUsPerRequest, 1),
      infoCpu: fixed(s.logPhases.info.cpuUsPerRequest, 1),
      cpuRatio: fixed(s.logPhases.cpuRatio, 2),
      phases: `${s.logPhases.warn.phases} / ${s.logPhases.info.phases}`,
      errors: String(s.appLog.errors),
    }));
}
/**
 * Whether a scenario's info/warn says anything: its requests must fit in a phase. A login
 * takes seconds at 32 in flight (bcrypt), so the work of a response finished in one phase
 * was done over many phases of both levels, and its ratio is noise around 1.
 */
function logJudged(s) {
  return s.appLog !== undefined && s.appLog.p99 < LOG_PHASE_MS;
}

/** A number to `digits` places, or `?` when a run was too short to have a phase of each level. */
function fixed(value, digits) {
  return value === undefined ? '?' : value.toFixed(digits);
}

const LOG_COLUMNS = [
  ['scenario', 'scenario'],
  ['warn', 'warn req/s'],
  ['info', 'info req/s'],
  ['ratio', 'info/warn'],
  ['runs', 'info/warn per run'],
  ['warnCpu', 'warn CPU µs/req'],
  ['infoCpu', 'info CPU µs/req'],
  ['cpuRatio', 'CPU warn/info'],
  ['phases', 'phases warn / info'],
  ['errors', 'errors'],
];
const LOG_NUMERIC = new Set(['warn', 'info', 'ratio', 'warnCpu', 'infoCpu', 'cpuRatio', 'errors']);

/** The log-level table as text, or undefined when it was not measured. */
export function logTextTable(results) {
  const data = logRows(results);
  return data.length === 0 ? undefined : plainTable(data, LOG_COLUMNS, LOG_NUMERIC);
}

function logSection(results) {
  const data = logRows(results);
  if (data.length === 0) return '';
  const lc = results.logCompare;
  return `## Request logging: LOG_LEVEL=info against warn

A second app process, its stdout to a file (nobody reads a pipe of it), switches its level
between \`warn\` and \`info\` every ${LOG_PHASE_MS} ms (\`bench/lib/log-level-phases.cjs\`) and
counts, per level, the responses it finished, the time and its CPU time. Its turn comes
right before or after the app at \`warn\`, with the same warm-up and duration; the rates
below pool the phases of its measured parts, and the per-run ratios are each run's own.
Two processes compared with each other differ by several percent at the same level; one
process compared with itself, a quarter of a second at a time, sees the same machine and
the same JIT state at both levels. A scenario whose p99 is longer than a phase (the login:
seconds of bcrypt) is shown but not judged: the work of each of its responses spans phases
of both levels.

${markdownOf(data, LOG_COLUMNS, LOG_NUMERIC)}

${
  lc
    ? `- The process wrote ${lc.lines} lines, ${lc.requestLines} of them request lines, for ${lc.infoResponses} responses it finished at \`info\` (warm-ups included; ${lc.warnResponses} at \`warn\`); its peak RSS was ${lc.peakRssMb ?? '?'} MB.
- Its last request line: \`${lc.lastRequestLine ?? '(none)'}\`
`
    : ''
}
`;
}

function sizesText({ users, posts, votes, comments, hotPostComments }) {
  return (
    `${users} users, ${posts} posts, ${votes} votes` +
    (comments === undefined ? '' : `, ${comments} comments (+ ${hotPostComments} on one post)`)
  );
}

/** What is printed under the table: ceiling, memory, seeding. */
export function summaryLines(results) {
  const lines = [];
  if (results.bcrypt) {
    const b = results.bcrypt;
    lines.push(
      `bcrypt ceiling: ${b.comparesPerSec} compares/s at cost ${b.rounds} (UV_THREADPOOL_SIZE=${b.threadpoolSize}, ${b.concurrency} in flight)` +
        (results.loginToCeiling === undefined
          ? ''
          : `; POST /login reached ${round(results.loginToCeiling * 100)}% of it`),
    );
  }
  lines.push(
    `app RSS: ${results.app.idleRssMb ?? '?'} MB after start, ${results.app.peakRssMb ?? '?'} MB peak (VmHWM)` +
      (results.baseline ? `; baseline peak ${results.baseline.peakRssMb ?? '?'} MB` : '') +
      (results.bare ? `; bare baseline peak ${results.bare.peakRssMb ?? '?'} MB` : '') +
      (results.logCompare ? `; app switching log levels peak ${results.logCompare.peakRssMb ?? '?'} MB` : ''),
  );
  const t = results.seed.timings;
  const steps = Object.entries(t)
    .filter(([step]) => step !== 'total')
    .map(([step, ms]) => `${step} ${ms} ms`)
    .join(', ');
  lines.push(`seeded ${sizesText(results.sizes)} in ${(t.total / 1000).toFixed(1)} s (${steps})`);
  return lines;
}

export function markdownReport(results, targets) {
  const m = results.machine;
  const s = results.settings;
  const mark = (pass) => (pass === undefined ? '–' : pass ? '✅ pass' : '❌ fail');
  return `# Benchmark results

Written by \`npm run bench\` (\`bench/run.mjs\`); see \`bench/README.md\` for what each number means.

- Date: ${results.date}
- Machine: ${m.nproc} CPUs (nproc), ${m.cpuModel}, ${m.memoryGb} GB RAM, ${m.platform}; load average at the start ${m.loadAverageAtStart.join(' / ')} (1 / 5 / 15 min)
- Node ${m.node}; ${results.database}
- Data: ${sizesText(results.sizes)}; \`GET /posts?author=\` reads ${s.author} (${s.authorPosts} posts), the comments page post ${s.hotPost} (seeded in ${(results.seed.timings.total / 1000).toFixed(1)} s)
- Load: ${s.connections} connections, ${s.warmup} s warm-up + ${s.duration} s per scenario, ${s.runs} run(s) (medians), load generator on the same machine
- App: NODE_ENV=production, DATABASE_POOL_SIZE=${s.poolSize}, BCRYPT_ROUNDS=${s.bcryptRounds}, UV_THREADPOOL_SIZE=${s.threadpoolSize}; the baseline uses the same pool size and secret
- Access token ${results.tokenHasSessionId ? 'carries `sid`: the baseline checks the session and the user in one query' : 'has no `sid`: the baseline loads the user by id'}; the bare baseline (\`BASELINE_SESSION_LOOKUP=false\`) takes the caller from the token without a query${
    s.appEnv && Object.keys(s.appEnv).length > 0
      ? `
- Extra app environment (BENCH_APP_ENV): ${Object.entries(s.appEnv)
          .map(([name, value]) => `\`${name}=${value}\``)
          .join(' ')}`
      : ''
  }

${markdownTable(results)}

${summaryLines(results)
  .map((line) => `- ${line}`)
  .join('\n')}

${statementsSection(results)}${logSection(results)}## Targets (2-core machine)

| target | result | |
| --- | --- | --- |
${targets.map((t) => `| ${t.name} | ${t.detail} | ${mark(t.pass)} |`).join('\n')}
`;
}

/** The heaviest statements of each scenario (pg_stat_statements), for whoever optimizes next. */
function statementsSection(results) {
  const blocks = [];
  for (const s of results.scenarios) {
    for (const [server, m] of [
      ['app', s.app],
      ['baseline', s.baseline],
      ['bare', s.bare],
    ]) {
      if (!m?.db) continue;
      const list = m.db.top
        .map(
          (q) =>
            `  - ${q.callsPerRequest}/req, ${q.meanMs} ms each, ${q.rowsPerCall} rows: \`${truncate(q.query, 300)}\``,
        )
        .join('\n');
      const head = `- **${s.name}**, ${server}: ${m.db.queriesPerRequest} statements and ${m.db.dbMsPerRequest} ms of database time per request`;
      blocks.push(list ? `${head}\n${list}` : head);
    }
  }
  if (blocks.length === 0) {
    return '';
  }
  return `## Database work per request (pg_stat_statements, measured part only)\n\n${blocks.join('\n')}\n\n`;
}

function truncate(text, max) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export async function writeReports(results, targets, outDir) {
  await mkdir(outDir, { recursive: true });
  const json = join(outDir, 'results.json');
  const markdown = join(outDir, 'RESULTS.md');
  await writeFile(json, `${JSON.stringify({ ...results, targets }, null, 2)}\n`);
  // The scale run's section (bench/SCALE.md, when there is one) stays at the end: see lib/scale-section.mjs.
  await writeFile(markdown, withScaleSection(markdownReport(results, targets), await readScaleSection(outDir)));
  return { json, markdown };
}
