import { Pool } from 'pg';
import { createTestDatabase } from '../support/test-app';
import { AppProcess, ExitReport, killAllAppProcesses, sleep, withLogsOnFailure } from './support/app-process';
import { Checks, firstFew } from './support/checks';
import {
  ApiUser,
  describeOutcome,
  expectStatus,
  HttpClient,
  isProblem,
  mapConcurrently,
  Outcome,
  randomLoopbackAddress,
  registerUser,
} from './support/load';
import { startTestRedis, TestRedis } from './support/redis';

const USERS = 50;
const POSTS_PER_USER = 40;
/** Every user votes once on each of these posts, written before the load. */
const VOTED_POSTS = 40;
const OPERATIONS = USERS * (POSTS_PER_USER + VOTED_POSTS);
/** B gets its SIGTERM once this share of the operations is done... */
const SIGTERM_AT_SHARE = 0.25;
/** ...and each client waits for the restarted B before its operations beyond this share, so it gets load too. */
const RESTART_CHECKPOINT_SHARE = 0.6;
/** A refused request is sent again, as a new attempt, to the other instance; this many attempts at most. */
const MAX_ATTEMPTS = 10;
const SHUTDOWN_GRACE_SECONDS = 10;
const REQUEST_TIMEOUT_MS = 20_000;
/** Errors that mean "refused before any answer": nothing may have been done. */
const CONNECTION_REFUSALS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE']);

type Operation = { kind: 'post' } | { kind: 'vote'; postId: number };
type Target = 'A' | 'B' | 'B stopping' | 'B down' | 'B restarted';

/** One HTTP request of the load. A refused operation is tried again as a new attempt. */
interface Attempt {
  id: number;
  kind: Operation['kind'];
  user: ApiUser;
  /** Where it went when it was sent: A, or B before its SIGTERM, until it exited, until the restarted B was ready, or after. */
  target: Target;
  /** The refused attempt of the same operation this one repeats. */
  retryOf?: number;
  /** In the title of the post it writes, to map rows to attempts. */
  marker?: string;
  postId?: number;
  outcome: Outcome;
  /** created: 201; refused: no answer (connection refused or reset) or 503; failed: anything else. */
  verdict: 'created' | 'refused' | 'failed';
}

function verdictOf(outcome: Outcome): Attempt['verdict'] {
  if (outcome.status === 201) {
    return 'created';
  }
  if (outcome.status === 503 || (outcome.status === undefined && CONNECTION_REFUSALS.has(outcome.errorCode ?? ''))) {
    return 'refused';
  }
  return 'failed';
}

function answerOf(attempt: Attempt): string {
  return attempt.outcome.status === undefined
    ? (attempt.outcome.errorCode ?? 'no answer')
    : String(attempt.outcome.status);
}

function describeAttempt(attempt: Attempt): string {
  const why =
    attempt.kind === 'vote' && attempt.outcome.status === 409 && attempt.retryOf !== undefined
      ? ` (409 on a retry: refused attempt ${attempt.retryOf} wrote the vote without its 201)`
      : '';
  return `attempt ${attempt.id} to ${attempt.target}: ${describeOutcome(attempt.outcome)}${why}`;
}

function shuffle<T>(items: T[]): T[] {
  for (let index = items.length - 1; index > 0; index -= 1) {
    const other = Math.floor(Math.random() * (index + 1));
    [items[index], items[other]] = [items[other], items[index]];
  }
  return items;
}

function countBy<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) {
    counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  }
  return counts;
}

describe('Load over two instances while one is restarted', () => {
  let a: AppProcess;
  let b: AppProcess;
  let restartedB: AppProcess | undefined;
  let redis: TestRedis | undefined;
  let dropDatabase: (() => Promise<void>) | undefined;
  let db: Pool;
  let env: Record<string, string>;
  const client = new HttpClient({ localAddress: randomLoopbackAddress(), timeoutMs: REQUEST_TIMEOUT_MS });

  beforeAll(async () => {
    redis = await startTestRedis();
    const database = await createTestDatabase();
    dropDatabase = database.drop;
    db = new Pool({ connectionString: database.url, max: 2 });
    db.on('error', () => undefined);
    env = {
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      SHUTDOWN_GRACE_SECONDS: String(SHUTDOWN_GRACE_SECONDS),
      // A log line per request would take CPU time from the load itself.
      LOG_LEVEL: 'warn',
    };
    a = await AppProcess.start({ name: 'instance A', env });
    b = await AppProcess.start({ name: 'instance B', env });
  }, 90_000);

  afterAll(async () => {
    client.close();
    await killAllAppProcesses();
    await db?.end();
    await dropDatabase?.();
    await redis?.stop();
  });

  /** Users registered on one instance and logged in on the other, and the posts they will vote on. */
  async function seed(): Promise<{ users: ApiUser[]; author: ApiUser; votedPostIds: number[] }> {
    const stamp = Date.now();
    const users = await mapConcurrently(Array.from({ length: USERS }), 10, (_, index) => {
      const [first, second] = index % 2 === 0 ? [a, b] : [b, a];
      return registerUser(client, first.url, `load${index}-${stamp}@example.com`, second.url);
    });
    const author = await registerUser(client, a.url, `author-${stamp}@example.com`);
    const votedPostIds: number[] = [];
    for (let index = 0; index < VOTED_POSTS; index += 1) {
      const instance = index % 2 === 0 ? a : b;
      const post = await client.post(
        `${instance.url}/posts`,
        { title: `Vote here ${index}`, content: 'A post to vote on.' },
        author.token,
      );
      votedPostIds.push(expectStatus(post, 201).body.id);
    }
    return { users, author, votedPostIds };
  }

  it(
    'loses nothing and answers no 500 while B is stopped with SIGTERM and started again',
    () =>
      withLogsOnFailure(
        () => [a, b, restartedB],
        async () => {
          const { users, author, votedPostIds } = await seed();

          // Requests go round robin to both ports, as from a load balancer without health checks.
          const urls = [a.url, b.url];
          let phase: Exclude<Target, 'A'> = 'B';
          const attempts: Attempt[] = [];
          let operationsDone = 0;
          let sigtermAt = 0;
          let exitedAt = 0;
          let restartReadyAt = 0;
          let exitReport: ExitReport | undefined;
          let markRestarted: () => void = () => undefined;
          const restarted = new Promise<void>((resolve) => (markRestarted = resolve));

          const send = async (user: ApiUser, operation: Operation, to: number, retryOf?: number) => {
            const id = attempts.length + 1;
            const attempt: Attempt = {
              id,
              kind: operation.kind,
              user,
              target: to === 0 ? 'A' : phase,
              retryOf,
              marker: operation.kind === 'post' ? `attempt-${id}` : undefined,
              postId: operation.kind === 'vote' ? operation.postId : undefined,
              outcome: undefined as unknown as Outcome,
              verdict: 'failed',
            };
            attempts.push(attempt);
            attempt.outcome =
              operation.kind === 'post'
                ? await client.post(
                    `${urls[to]}/posts`,
                    { title: `load ${attempt.marker}`, content: `Written by ${attempt.marker} for user ${user.id}.` },
                    user.token,
                  )
                : await client.post(`${urls[to]}/vote`, { post_id: operation.postId, dir: 1 }, user.token);
            attempt.verdict = verdictOf(attempt.outcome);
            return attempt;
          };

          /** One client: its user's 40 posts and 40 votes in random order, one request at a time. */
          const runClient = async (user: ApiUser, index: number) => {
            const operations = shuffle<Operation>([
              ...Array.from({ length: POSTS_PER_USER }, (): Operation => ({ kind: 'post' })),
              ...votedPostIds.map((postId): Operation => ({ kind: 'vote', postId })),
            ]);
            for (const [position, operation] of operations.entries()) {
              if (position >= operations.length * RESTART_CHECKPOINT_SHARE) {
                await restarted;
              }
              let to = (index + position) % 2;
              let attempt = await send(user, operation, to);
              for (let count = 1; attempt.verdict === 'refused' && count < MAX_ATTEMPTS; count += 1) {
                to = 1 - to;
                await sleep(10);
                attempt = await send(user, operation, to, attempt.id);
              }
              operationsDone += 1;
            }
          };

          const restartB = async () => {
            while (operationsDone < OPERATIONS * SIGTERM_AT_SHARE) {
              await sleep(5);
            }
            phase = 'B stopping';
            sigtermAt = performance.now();
            exitReport = await b.stop('SIGTERM', (SHUTDOWN_GRACE_SECONDS + 20) * 1_000);
            exitedAt = performance.now();
            phase = 'B down';
            restartedB = await AppProcess.start({ name: 'instance B (restarted)', port: b.port, env });
            restartReadyAt = performance.now();
            phase = 'B restarted';
            markRestarted();
          };

          // B's readiness, probed on one kept-alive connection as a load balancer's health check does.
          const readinessClient = new HttpClient({ localAddress: randomLoopbackAddress(), timeoutMs: 5_000 });
          const readiness: Outcome[] = [];
          const probeReadiness = async () => {
            while (b.isRunning()) {
              readiness.push(await readinessClient.get(`${b.url}/health/ready`));
              await sleep(20);
            }
          };

          const startedAt = performance.now();
          const probing = probeReadiness();
          await Promise.all([restartB(), ...users.map((user, index) => runClient(user, index))]);
          const loadSeconds = (performance.now() - startedAt) / 1000;
          await probing;
          readinessClient.close();

          // What the database holds.
          const postRows = (
            await db.query<{ id: number; title: string; owner_id: number }>(
              "SELECT id, title, owner_id FROM posts WHERE title LIKE 'load attempt-%'",
            )
          ).rows;
          const voteRows = (await db.query<{ user_id: number; post_id: number }>('SELECT user_id, post_id FROM votes'))
            .rows;
          const duplicateVotes = (
            await db.query('SELECT user_id, post_id, count(*) FROM votes GROUP BY 1, 2 HAVING count(*) > 1')
          ).rows;
          const votesPerPost = new Map(
            (
              await db.query<{ id: number; votes: string }>(
                'SELECT p.id, count(v.post_id) AS votes FROM posts p LEFT JOIN votes v ON v.post_id = p.id GROUP BY p.id',
              )
            ).rows.map((row) => [row.id, Number(row.votes)]),
          );

          // The counts to quote.
          const created = attempts.filter((attempt) => attempt.verdict === 'created');
          const refused = attempts.filter((attempt) => attempt.verdict === 'refused');
          const failed = attempts.filter((attempt) => attempt.verdict === 'failed');
          const serverErrors = attempts.filter((attempt) => (attempt.outcome.status ?? 0) >= 500);
          const inFlightAtSigterm = attempts.filter(
            (attempt) =>
              attempt.target === 'B' && attempt.outcome.startedAt < sigtermAt && attempt.outcome.endedAt > sigtermAt,
          );
          const readinessAfterSigterm = readiness.filter((probe) => probe.startedAt > sigtermAt);
          const ofKind = (list: Attempt[], kind: Attempt['kind']) => list.filter((attempt) => attempt.kind === kind);
          console.log(
            `load-restart: ${OPERATIONS} operations from ${USERS} clients in ${loadSeconds.toFixed(1)} s; ` +
              `requests sent ${attempts.length} (POST /posts ${ofKind(attempts, 'post').length}, POST /vote ${ofKind(attempts, 'vote').length}); ` +
              `201 ${created.length} (posts ${ofKind(created, 'post').length}, votes ${ofKind(created, 'vote').length}); ` +
              `refused ${refused.length} ${JSON.stringify(countBy(refused, answerOf))}; ` +
              `other answers ${failed.length} ${JSON.stringify(countBy(failed, answerOf))}; ` +
              `5xx ${serverErrors.length} (not 503: ${serverErrors.filter((x) => x.outcome.status !== 503).length}); ` +
              `rows: posts ${postRows.length}, votes ${voteRows.length}; ` +
              `answers by ${JSON.stringify(countBy(attempts, (x) => `${x.target} ${answerOf(x)}`))}; ` +
              `SIGTERM to B: exit code ${exitReport?.code} (signal ${exitReport?.signal}) after ${exitReport?.shutdownMs} ms, ` +
              `in flight then ${inFlightAtSigterm.length} ${JSON.stringify(countBy(inFlightAtSigterm, answerOf))}, ` +
              `B's readiness probes after it ${JSON.stringify(countBy(readinessAfterSigterm, (x) => String(x.status ?? x.errorCode)))}, ` +
              `B down ${Math.round(restartReadyAt - exitedAt)} ms (restarted B ready after ${restartedB?.startupMs} ms)`,
          );

          const checks = new Checks();
          checks.check(
            'every request got a 201 or a clean refusal (no 500, no timeout, no 409 on a retried vote)',
            () => expect(firstFew(failed.map(describeAttempt))).toEqual({ count: 0, first: [] }),
          );
          checks.check('no 5xx other than 503', () =>
            expect(serverErrors.filter((attempt) => attempt.outcome.status !== 503).map(describeAttempt)).toEqual([]),
          );
          checks.check('every 503 is problem+json', () =>
            expect(
              firstFew(
                attempts.filter((x) => x.outcome.status === 503 && !isProblem(x.outcome, 503)).map(describeAttempt),
              ),
            ).toEqual({ count: 0, first: [] }),
          );
          checks.check('every operation ended in a 201 within the attempts allowed', () =>
            expect(created.length).toBe(OPERATIONS),
          );

          const createdPosts = new Map(ofKind(created, 'post').map((attempt) => [`load ${attempt.marker}`, attempt]));
          const rowFor = new Map(postRows.map((row) => [row.title, row]));
          checks.check('no post was written twice', () =>
            expect(Object.entries(countBy(postRows, (row) => row.title)).filter(([, count]) => count > 1)).toEqual([]),
          );
          checks.check('no post row exists without its 201', () =>
            expect(firstFew(postRows.filter((row) => !createdPosts.has(row.title)).map((row) => row.title))).toEqual({
              count: 0,
              first: [],
            }),
          );
          checks.check('every 201 POST /posts has its row, with its id and owner', () =>
            expect(
              firstFew(
                [...createdPosts.entries()]
                  .filter(([title, attempt]) => {
                    const row = rowFor.get(title);
                    return !row || row.id !== attempt.outcome.body.id || row.owner_id !== attempt.user.id;
                  })
                  .map(([title]) => title),
              ),
            ).toEqual({ count: 0, first: [] }),
          );

          const pair = (userId: number, postId: number) => `user ${userId} on post ${postId}`;
          const createdVotes = new Set(
            ofKind(created, 'vote').map((attempt) => pair(attempt.user.id, attempt.postId!)),
          );
          const votePairs = new Set(voteRows.map((row) => pair(row.user_id, row.post_id)));
          checks.check('no duplicate votes', () => expect(duplicateVotes).toEqual([]));
          checks.check('no vote row exists without its 201', () =>
            expect(firstFew([...votePairs].filter((vote) => !createdVotes.has(vote)))).toEqual({ count: 0, first: [] }),
          );
          checks.check('every 201 POST /vote has its row', () =>
            expect(firstFew([...createdVotes].filter((vote) => !votePairs.has(vote)))).toEqual({ count: 0, first: [] }),
          );

          // Every post's "votes", listed and on its own from both instances, is its number of rows.
          const listed = new Map<number, number>();
          for (let skip = 0; ; skip += 100) {
            const page = expectStatus(await client.get(`${a.url}/posts?limit=100&skip=${skip}`, author.token), 200);
            for (const post of page.body as { id: number; votes: number }[]) {
              listed.set(post.id, post.votes);
            }
            if (page.body.length < 100) {
              break;
            }
          }
          checks.check('GET /posts lists every post with "votes" equal to its rows', () =>
            expect(listed).toEqual(votesPerPost),
          );
          const counted: { postId: number; api: number; sql?: number; created: number }[] = [];
          for (const [index, postId] of votedPostIds.entries()) {
            const instance = index % 2 === 0 || !restartedB ? a : restartedB;
            const post = expectStatus(await client.get(`${instance.url}/posts/${postId}`, author.token), 200);
            const votesCreated = ofKind(created, 'vote').filter((attempt) => attempt.postId === postId).length;
            counted.push({ postId, api: post.body.votes, sql: votesPerPost.get(postId), created: votesCreated });
          }
          checks.check('GET /posts/{id} "votes" = SQL count = 201 votes, for every voted post', () =>
            expect(counted.filter((count) => count.api !== count.created || count.sql !== count.created)).toEqual([]),
          );

          checks.check(`B exits with code 0 within SHUTDOWN_GRACE_SECONDS (${SHUTDOWN_GRACE_SECONDS} s)`, () => {
            expect(exitReport).toEqual(expect.objectContaining({ code: 0, signal: null, killed: false }));
            expect(exitReport!.shutdownMs).toBeLessThan((SHUTDOWN_GRACE_SECONDS + 2) * 1_000);
          });
          // A request sent just before the signal may reach B after it began shutting down (and is then
          // refused cleanly); one sent 250 ms before surely reached it and must complete normally.
          checks.check('requests in flight at the SIGTERM complete with their normal answer (201)', () =>
            expect(
              inFlightAtSigterm
                .filter((x) => x.outcome.startedAt < sigtermAt - 250 && x.verdict !== 'created')
                .map(describeAttempt),
            ).toEqual([]),
          );
          checks.check('B, while stopping, refuses on kept-alive connections with 503 and Connection: close', () =>
            expect(
              firstFew(
                attempts
                  .filter((x) => x.target === 'B stopping' && x.outcome.status === 503)
                  .filter((x) => x.outcome.headers.connection !== 'close')
                  .map(describeAttempt),
              ),
            ).toEqual({ count: 0, first: [] }),
          );
          checks.check('B is no longer ready once it got its SIGTERM (GET /health/ready: no 200 after it)', () =>
            expect(
              readiness
                .filter((probe) => probe.startedAt > sigtermAt + 250 && probe.status === 200)
                .map(describeOutcome),
            ).toEqual([]),
          );
          checks.check('the restarted B is running and answered 201s under the load', () => {
            expect(restartedB?.isRunning()).toBe(true);
            expect(created.filter((attempt) => attempt.target === 'B restarted').length).toBeGreaterThan(0);
          });
          const ready = restartedB ? await client.get(`${restartedB.url}/health/ready`) : undefined;
          checks.check('the restarted B answers GET /health/ready with 200', () => expect(ready?.status).toBe(200));
          checks.assertAll();
        },
      ),
    240_000,
  );
});
