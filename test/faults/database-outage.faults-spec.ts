import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { EmbeddedPostgres, findFreePort } from '../../src/database/embedded-postgres';
import { AppProcess, killAllAppProcesses, sleep, withLogsOnFailure } from './support/app-process';
import { Checks, firstFew } from './support/checks';
import { postgresProcesses } from './support/postgres-processes';
import {
  ApiUser,
  describeOutcome,
  expectStatus,
  HttpClient,
  isProblem,
  Outcome,
  randomLoopbackAddress,
  registerUser,
} from './support/load';

const CONNECT_TIMEOUT_MS = 1_000;
const STATEMENT_TIMEOUT_MS = 2_000;
/** Every request, during the outage too, must be answered within this. */
const ANSWER_BOUND_MS = 5_000;
/** How long PostgreSQL stays away. */
const OUTAGE_MS = 6_000;
/** Each load client's pause between two requests. */
const PAUSE_MS = 25;
const KINDS = ['GET /posts', 'GET /posts/{id}', 'POST /posts', 'GET /health'] as const;

type Kind = (typeof KINDS)[number];

interface Sample {
  kind: Kind;
  outcome: Outcome;
  /** The title of the post a POST /posts writes. */
  title?: string;
}

/** A way for the database to go away and come back. */
interface Outage {
  name: string;
  begin: () => Promise<void>;
  end: () => Promise<void>;
}

const isSuccess = (sample: Sample) => sample.outcome.status === 200 || sample.outcome.status === 201;
const describeSample = (sample: Sample) => describeOutcome(sample.outcome);
const noneOf = (samples: Sample[]) => firstFew(samples.map(describeSample));
const NONE = { count: 0, first: [] };

describe('A PostgreSQL outage under load, on the built app', () => {
  let dataDir: string;
  let postgres: EmbeddedPostgres;
  const postgresLog: string[] = [];
  let databaseUrl: string;
  let app: AppProcess;
  /** The processes stopped with SIGSTOP, to wake up whatever happens. */
  let frozen: number[] = [];
  const client = new HttpClient({ localAddress: randomLoopbackAddress(), timeoutMs: 3 * ANSWER_BOUND_MS });

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'posts-api-outage-'));
    // A fixed port, so the server started again is where the app looks for it.
    postgres = new EmbeddedPostgres({ dataDir, port: await findFreePort(), log: (line) => postgresLog.push(line) });
    databaseUrl = await postgres.start();
    app = await AppProcess.start({
      name: 'app',
      env: {
        DATABASE_URL: databaseUrl,
        DATABASE_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
        DATABASE_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
      },
    });
  }, 90_000);

  afterAll(async () => {
    client.close();
    await killAllAppProcesses();
    frozen.forEach((pid) => process.kill(pid, 'SIGCONT'));
    await postgres?.stop();
    if (dataDir) {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 30_000);

  /** Steady load from four clients, one per kind of request, until `stop()`. */
  function startLoad(user: ApiUser, postId: number, titlePrefix: string) {
    const samples: Sample[] = [];
    let running = true;
    let posted = 0;
    const send: Record<Kind, () => { request: Promise<Outcome>; title?: string }> = {
      'GET /posts': () => ({ request: client.get(`${app.url}/posts?limit=10`, user.token) }),
      'GET /posts/{id}': () => ({ request: client.get(`${app.url}/posts/${postId}`, user.token) }),
      'POST /posts': () => {
        posted += 1;
        const title = `${titlePrefix}-${posted}`;
        return {
          title,
          request: client.post(`${app.url}/posts`, { title, content: 'Written under load.' }, user.token),
        };
      },
      'GET /health': () => ({ request: client.get(`${app.url}/health`) }),
    };
    const loops = KINDS.map(async (kind) => {
      while (running) {
        const { request, title } = send[kind]();
        samples.push({ kind, title, outcome: await request });
        await sleep(PAUSE_MS);
      }
    });
    return {
      samples,
      stop: async () => {
        running = false;
        await Promise.all(loops);
      },
    };
  }

  /** The first sample that matches, waiting up to `timeoutMs` for it; undefined if none comes. */
  async function firstSample(samples: Sample[], matches: (sample: Sample) => boolean, timeoutMs: number) {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const found = samples.find(matches);
      if (found || performance.now() > deadline) {
        return found;
      }
      await sleep(20);
    }
  }

  /**
   * Load before, during and after the outage; then every answer is checked against its
   * phase, the timings are printed, and every 201 POST /posts is looked for in the database.
   */
  async function sufferOutage(outage: Outage): Promise<void> {
    const user = await registerUser(client, app.url, `${outage.name}@example.com`);
    const seeded = await client.post(`${app.url}/posts`, { title: 'Before', content: 'Seed.' }, user.token);
    const pid = app.pid;
    const titlePrefix = `outage-${outage.name}`;
    const load = startLoad(user, expectStatus(seeded, 201).body.id, titlePrefix);
    const { samples } = load;

    // Healthy first: every kind of request succeeds.
    for (const kind of KINDS) {
      const success = await firstSample(samples, (sample) => sample.kind === kind && isSuccess(sample), 15_000);
      expect(success && describeSample(success)).toMatch(/→ 20[01] /);
    }
    await sleep(1_000);

    const beginAt = performance.now();
    let completeAt = beginAt;
    let endAt = beginAt;
    let backAt = beginAt;
    let aliveDuringOutage = false;
    try {
      await outage.begin();
      completeAt = performance.now();
      await sleep(OUTAGE_MS);
      aliveDuringOutage = app.isRunning();
    } finally {
      endAt = performance.now();
      await outage.end();
      backAt = performance.now();
    }
    const after = (sample: Sample) => sample.outcome.startedAt > endAt;
    const firstHealthy = await firstSample(
      samples,
      (sample) => after(sample) && sample.kind === 'GET /health' && sample.outcome.status === 200,
      30_000,
    );
    const firstCreated = await firstSample(
      samples,
      (sample) => after(sample) && sample.kind === 'POST /posts' && sample.outcome.status === 201,
      30_000,
    );
    const recoveredAt = Math.max(firstHealthy?.outcome.endedAt ?? backAt, firstCreated?.outcome.endedAt ?? backAt);
    await sleep(2_500);
    await load.stop();

    // Requests wholly before, wholly within the outage (begun once it was complete), around it, and once recovered.
    const before = samples.filter((sample) => sample.outcome.endedAt < beginAt);
    const within = samples.filter((sample) => sample.outcome.startedAt > completeAt && sample.outcome.endedAt < endAt);
    const around = samples.filter((sample) => sample.outcome.endedAt > beginAt && sample.outcome.startedAt < backAt);
    const settled = samples.filter((sample) => sample.outcome.startedAt > recoveredAt + 1_000);

    const pool = new Pool({ connectionString: databaseUrl, max: 1 });
    const titles = new Set(
      (
        await pool.query<{ title: string }>('SELECT title FROM posts WHERE title LIKE $1', [`${titlePrefix}-%`])
      ).rows.map((row) => row.title),
    );
    await pool.end();
    const created = samples.filter((sample) => sample.kind === 'POST /posts' && sample.outcome.status === 201);
    const createdTitles = new Set(created.map((sample) => sample.title));

    const first503 = samples.find((sample) => sample.outcome.status === 503 && sample.outcome.endedAt > beginAt);
    const longest = around.reduce<Sample | undefined>(
      (slowest, sample) => (!slowest || sample.outcome.durationMs > slowest.outcome.durationMs ? sample : slowest),
      undefined,
    );
    const ms = (value: number | undefined) => (value === undefined ? 'never' : `${Math.round(value)} ms`);
    const answers: Record<string, number> = {};
    for (const sample of samples) {
      const key = `${sample.kind} ${sample.outcome.status ?? sample.outcome.errorCode}`;
      answers[key] = (answers[key] ?? 0) + 1;
    }
    console.log(
      `database-outage (${outage.name}): ${samples.length} requests ${JSON.stringify(answers)}; ` +
        `PostgreSQL ${outage.name} for ${ms(endAt - beginAt)}, back after ${ms(backAt - endAt)}; ` +
        `outage → first 503: ${ms(first503 && first503.outcome.endedAt - beginAt)}; ` +
        `longest request around the outage: ${ms(longest?.outcome.durationMs)} (${longest?.kind ?? '-'}); ` +
        `PostgreSQL back → first healthy /health: ${ms(firstHealthy && firstHealthy.outcome.endedAt - backAt)}, ` +
        `→ first 201: ${ms(firstCreated && firstCreated.outcome.endedAt - backAt)}; ` +
        `POST /posts 201 ${created.length}, rows ${titles.size}, ` +
        `rows without a 201 ${[...titles].filter((title) => !createdTitles.has(title)).length}`,
    );

    const checks = new Checks();
    checks.check('every request got an answer (no connection error, no timeout)', () =>
      expect(noneOf(samples.filter((sample) => sample.outcome.status === undefined))).toEqual(NONE),
    );
    checks.check('no 5xx other than 503', () =>
      expect(
        noneOf(samples.filter((sample) => (sample.outcome.status ?? 0) >= 500 && sample.outcome.status !== 503)),
      ).toEqual(NONE),
    );
    checks.check(`every request answered within ${ANSWER_BOUND_MS} ms`, () =>
      expect(noneOf(samples.filter((sample) => sample.outcome.durationMs >= ANSWER_BOUND_MS))).toEqual(NONE),
    );
    checks.check('every request before the outage succeeded', () =>
      expect(noneOf(before.filter((sample) => !isSuccess(sample)))).toEqual(NONE),
    );
    checks.check('the outage saw requests of every kind', () =>
      expect(KINDS.filter((kind) => !within.some((sample) => sample.kind === kind))).toEqual([]),
    );
    checks.check('every request during the outage got 503 problem+json', () =>
      expect(noneOf(within.filter((sample) => !isProblem(sample.outcome, 503)))).toEqual(NONE),
    );
    checks.check('every request around the outage got a success or 503 problem+json', () =>
      expect(noneOf(around.filter((sample) => !isSuccess(sample) && !isProblem(sample.outcome, 503)))).toEqual(NONE),
    );
    checks.check('GET /health during the outage says "database": "down"', () =>
      expect(
        noneOf(within.filter((sample) => sample.kind === 'GET /health' && sample.outcome.body?.database !== 'down')),
      ).toEqual(NONE),
    );
    checks.check('the process stayed alive through the outage', () => {
      expect(aliveDuringOutage).toBe(true);
      expect(app.isRunning()).toBe(true);
      expect(app.pid).toBe(pid);
    });
    checks.check('the same process serves again: GET /health 200 and POST /posts 201', () => {
      expect(firstHealthy && describeSample(firstHealthy)).toMatch(/→ 200 /);
      expect(firstCreated && describeSample(firstCreated)).toMatch(/→ 201 /);
    });
    checks.check('once recovered, every request succeeds', () => {
      expect(settled.length).toBeGreaterThan(0);
      expect(noneOf(settled.filter((sample) => !isSuccess(sample)))).toEqual(NONE);
    });
    checks.check('every 201 POST /posts, before and after, has its row', () =>
      expect(noneOf(created.filter((sample) => !titles.has(sample.title!)))).toEqual(NONE),
    );
    if (!checks.passed()) {
      console.log(`PostgreSQL's last lines:\n${postgresLog.slice(-15).join('\n')}`);
    }
    checks.assertAll();
  }

  it(
    'answers 503 problem+json in time while PostgreSQL is stopped, and the same process serves once it is started again',
    () =>
      withLogsOnFailure(
        () => [app],
        () =>
          sufferOutage({
            name: 'stopped',
            begin: () => postgres.stop(),
            end: async () => {
              await postgres.start();
            },
          }),
      ),
    120_000,
  );

  // A server that stops answering without closing its sockets, as behind a network partition:
  // only the app's own timeouts (connect, and the client-side query timeout) bound the requests.
  it(
    'answers 503 problem+json in time while PostgreSQL is frozen (SIGSTOP), and serves again once it resumes',
    () =>
      withLogsOnFailure(
        () => [app],
        () =>
          sufferOutage({
            name: 'frozen',
            begin: () => {
              frozen = postgresProcesses(join(dataDir, 'postgres'));
              frozen.forEach((pid) => process.kill(pid, 'SIGSTOP'));
              return Promise.resolve();
            },
            end: () => {
              frozen.forEach((pid) => process.kill(pid, 'SIGCONT'));
              frozen = [];
              return Promise.resolve();
            },
          }),
      ),
    120_000,
  );
});
