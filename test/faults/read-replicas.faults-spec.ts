import { randomBytes } from 'node:crypto';
import { AppProcess, killAllAppProcesses, sleep, withLogsOnFailure } from './support/app-process';
import { Checks, firstFew } from './support/checks';
import {
  ApiUser,
  describeOutcome,
  expectProblem,
  expectStatus,
  HttpClient,
  Outcome,
  randomLoopbackAddress,
  registerUser,
} from './support/load';
import {
  type PrimaryAndStandby,
  readsOnStandby,
  startPrimaryAndStandby,
  waitForReplay,
} from './support/streaming-replica';

/** How far behind the standby replays: every write is missing there for this long. */
const APPLY_DELAY_MS = 2_000;
/** Instances A and B tolerate the standby's delay, so others' reads keep going there while it lags. */
const TOLERANT_MAX_LAG_MS = 10_000;
/** Instance C does not: it skips the standby while writes make it lag. */
const STRICT_MAX_LAG_MS = 500;

interface ReplicaHealth {
  url: string;
  state: 'up' | 'lagging' | 'down';
  lag_ms?: number;
}

/**
 * A real primary and a real streaming standby (Debian's PostgreSQL 15, `pg_basebackup`),
 * the standby replaying 2 s late (`recovery_min_apply_delay`); built app instances with
 * DATABASE_REPLICA_URLS naming it.
 */
describe('Read replicas: a streaming standby replaying 2 s late, on the built app', () => {
  let servers: PrimaryAndStandby;
  let a: AppProcess;
  let b: AppProcess;
  let c: AppProcess | undefined;
  const client = new HttpClient({ localAddress: randomLoopbackAddress(), timeoutMs: 20_000 });
  const email = (label: string) => `${label}-${randomBytes(4).toString('hex')}@example.com`;
  const withLogs = (body: () => Promise<void>) => () =>
    withLogsOnFailure(
      () => [a, b, c],
      async () => {
        try {
          await body();
        } catch (error) {
          if (error instanceof Error) {
            error.message += `\n--- standby log ---\n${await servers.standby.logTail(15)}`;
          }
          throw error;
        }
      },
    );

  const bearer = (user: ApiUser) => ({ authorization: `Bearer ${user.token}` });
  const patch = (url: string, user: ApiUser, json: unknown) =>
    client.request('PATCH', url, { headers: bearer(user), json });
  const remove = (url: string, user: ApiUser) => client.request('DELETE', url, { headers: bearer(user) });

  async function replicasOf(app: AppProcess): Promise<ReplicaHealth[]> {
    return expectStatus(await client.get(`${app.url}/health/ready`), 200).body.replicas as ReplicaHealth[];
  }

  /** Polls /health/ready until the standby's state is `state`; returns what it said. */
  async function waitForState(app: AppProcess, state: ReplicaHealth['state'], timeoutMs = 20_000) {
    const deadline = performance.now() + timeoutMs;
    let last: ReplicaHealth[] = [];
    while (performance.now() < deadline) {
      last = await replicasOf(app);
      if (last[0]?.state === state) {
        return last[0];
      }
      await sleep(50);
    }
    throw new Error(`${app.name} never said the standby is ${state}; last: ${JSON.stringify(last)}`);
  }

  beforeAll(async () => {
    servers = await startPrimaryAndStandby(`${APPLY_DELAY_MS}ms`);
    const env = {
      DATABASE_URL: servers.primary.url,
      DATABASE_REPLICA_URLS: servers.standby.url,
      REPLICA_MAX_LAG_MS: String(TOLERANT_MAX_LAG_MS),
    };
    // One after the other: both would run the migrations at once otherwise.
    a = await AppProcess.start({ name: 'instance A', env });
    b = await AppProcess.start({ name: 'instance B', env });
    // The migrations must be on the standby before it can answer the app's reads.
    await waitForReplay(servers);
  }, 120_000);

  afterAll(async () => {
    client.close();
    await killAllAppProcesses();
    await servers?.cleanUp();
  }, 60_000);

  it(
    "names the standby's state in /health/ready, without its password, and sends the reads there",
    withLogs(async () => {
      for (const app of [a, b]) {
        const replica = await waitForState(app, 'up');
        expect(replica).toEqual({
          url: `127.0.0.1:${servers.standby.port}/posts`,
          state: 'up',
          lag_ms: expect.any(Number),
        });
        expect(JSON.stringify(await replicasOf(app))).not.toContain('not-shown');
      }
      const reader = await registerUser(client, a.url, email('reader'));
      const writer = await registerUser(client, a.url, email('writer'));
      const post = expectStatus(
        await client.post(`${a.url}/posts`, { title: 'Seen later', content: 'x' }, writer.token),
        201,
      );
      await waitForReplay(servers);
      // The apps learn how far the standby is at their next poll (every 100 ms).
      await sleep(300);

      const before = await readsOnStandby(servers);
      const rounds = 10;
      for (let index = 0; index < rounds; index += 1) {
        const app = index % 2 === 0 ? a : b;
        expectStatus(await client.get(`${app.url}/posts?limit=5`, reader.token), 200);
        expectStatus(await client.get(`${app.url}/posts/${post.body.id}`, reader.token), 200);
        expectStatus(await client.get(`${app.url}/posts/${post.body.id}/comments`, reader.token), 200);
        expectStatus(await client.get(`${app.url}/users/${writer.id}`, reader.token), 200);
      }
      const after = await readsOnStandby(servers);
      // Five statements a round: the comments list is two (the post's visibility, then the page).
      console.log(
        `Read replicas: ${rounds * 4} reads of a caller with no fresh writes (${rounds * 5} statements); ` +
          `the standby ran ${after - before}`,
      );
      expect(after - before).toBeGreaterThanOrEqual(rounds * 5);

      // Another user's new post is not there yet for the reader (the standby lags 2 s) ...
      const fresh = expectStatus(
        await client.post(`${a.url}/posts`, { title: 'Fresh', content: 'x' }, writer.token),
        201,
      );
      expectProblem(await client.get(`${b.url}/posts/${fresh.body.id}`, reader.token), 404);
      // ... but it is for its writer, at once, on the other instance; and for everyone once replayed.
      expectStatus(await client.get(`${b.url}/posts/${fresh.body.id}`, writer.token), 200);
      await waitForReplay(servers);
      expectStatus(await client.get(`${b.url}/posts/${fresh.body.id}`, reader.token), 200);
    }),
    60_000,
  );

  it(
    'lets every client read its own writes at once, on either instance, while the standby has not replayed them',
    withLogs(async () => {
      const checks = new Checks();
      const onStandby = async (sql: string, values: unknown[]) =>
        (await servers.standbyPool.query(sql, values)).rowCount ?? 0;

      // A new account: found at once through the other instance.
      const user = await registerUser(client, a.url, email('writer'), b.url);
      const me = await client.get(`${b.url}/users/${user.id}`, user.token);
      const standbyHadUser = await onStandby('SELECT 1 FROM users WHERE id = $1', [user.id]);
      checks.check('the new account is found at once', () => expect(me.status).toBe(200));
      checks.check('the standby did not have the account yet', () => expect(standbyHadUser).toBe(0));

      // A post: written on A, read on B.
      const created = expectStatus(
        await client.post(`${a.url}/posts`, { title: 'Mine', content: 'Written on A.' }, user.token),
        201,
      );
      const id = created.body.id as number;
      const standbyHadPost = await onStandby('SELECT 1 FROM posts WHERE id = $1', [id]);
      checks.check('the standby did not have the post yet', () => expect(standbyHadPost).toBe(0));
      const read = await client.get(`${b.url}/posts/${id}`, user.token);
      checks.check('the post is read at once on B', () => expect(read.body).toMatchObject({ id, title: 'Mine' }));
      const page = await client.get(`${b.url}/posts?limit=5`, user.token);
      checks.check('the post is in the first page on B', () =>
        expect(page.body.map((post: { id: number }) => post.id)).toContain(id),
      );

      // An edit on B, read on A.
      expectStatus(await patch(`${b.url}/posts/${id}`, user, { title: 'Mine, edited' }), 200);
      const edited = await client.get(`${a.url}/posts/${id}`, user.token);
      checks.check('the edit is read at once on A', () => expect(edited.body.title).toBe('Mine, edited'));

      // A vote on A, read on B.
      expectStatus(await client.post(`${a.url}/vote`, { post_id: id, dir: 1 }, user.token), 201);
      const voted = await client.get(`${b.url}/posts/${id}`, user.token);
      checks.check('the vote is read at once on B', () => expect(voted.body).toMatchObject({ votes: 1, voted: true }));

      // A comment on A, read, edited and deleted across both.
      const comment = expectStatus(
        await client.post(`${a.url}/posts/${id}/comments`, { content: 'First!' }, user.token),
        201,
      );
      const commentId = comment.body.id as number;
      const comments = await client.get(`${b.url}/posts/${id}/comments`, user.token);
      checks.check('the comment is listed at once on B', () =>
        expect(comments.body.map((each: { id: number }) => each.id)).toEqual([commentId]),
      );
      expectStatus(await patch(`${b.url}/comments/${commentId}`, user, { content: 'Second thoughts' }), 200);
      const commentRead = await client.get(`${a.url}/comments/${commentId}`, user.token);
      checks.check('the comment edit is read at once on A', () =>
        expect(commentRead.body.content).toBe('Second thoughts'),
      );
      expectStatus(await remove(`${a.url}/comments/${commentId}`, user), 204);
      const goneComment = await client.get(`${b.url}/comments/${commentId}`, user.token);
      checks.check('the deleted comment is gone at once on B', () => expect(goneComment.status).toBe(404));
      const noComments = await client.get(`${b.url}/posts/${id}/comments`, user.token);
      checks.check('the deleted comment is not listed on B', () => expect(noComments.body).toEqual([]));

      // An account change on A, read on B.
      const username = `w${randomBytes(4).toString('hex')}`;
      expectStatus(await patch(`${a.url}/users/me`, user, { username }), 200);
      const renamed = await client.get(`${b.url}/users/${user.id}`, user.token);
      checks.check('the new username is read at once on B', () => expect(renamed.body.username).toBe(username));
      const byName = await client.get(`${b.url}/users/${username}`, user.token);
      checks.check('the new username finds the account at once on B', () => expect(byName.status).toBe(200));

      // The post deleted on B: gone at once on A, from the post and from the list.
      expectStatus(await remove(`${b.url}/posts/${id}`, user), 204);
      const gone = await client.get(`${a.url}/posts/${id}`, user.token);
      checks.check('the deleted post is gone at once on A', () => expect(gone.status).toBe(404));
      const pageAfter = await client.get(`${a.url}/posts?limit=5`, user.token);
      checks.check('the deleted post is not listed on A', () =>
        expect(pageAfter.body.map((post: { id: number }) => post.id)).not.toContain(id),
      );
      const standbyStillHad = await onStandby('SELECT 1 FROM posts WHERE id = $1', [id]);
      console.log(
        `Read replicas: a post written, edited, voted on, commented and deleted across two instances; ` +
          `${standbyStillHad === 1 ? 'the standby still had it' : 'the standby had replayed its deletion'} at the end`,
      );
      checks.assertAll();
    }),
    60_000,
  );

  it(
    'honours a logout at once on its instance and within 100 ms on the other, whatever the standby has replayed',
    withLogs(async () => {
      const user = await registerUser(client, a.url, email('logout'));
      expectStatus(await client.get(`${b.url}/posts`, user.token), 200);
      expectStatus(await client.post(`${a.url}/auth/logout`, undefined, user.token), 204);
      expectProblem(await client.get(`${a.url}/posts`, user.token), 401);
      // The contract's bound for another instance (each keeps the live sessions it checked in memory).
      await sleep(100);
      expectProblem(await client.get(`${b.url}/posts`, user.token), 401);
      expectProblem(await client.get(`${b.url}/users/${user.id}`, user.token), 401);
      expectProblem(await client.post(`${b.url}/auth/refresh`, { refresh_token: user.refreshToken }), 401);
    }),
    30_000,
  );

  /** Ways for the standby to go away and come back. */
  const OUTAGES = [
    {
      name: 'stopped',
      /** pg_ctl -m immediate: its sockets close at once. */
      begin: async () => {
        await servers.standby.stop('immediate');
        return () => servers.standby.start();
      },
    },
    {
      name: 'frozen',
      /** SIGSTOP: its sockets stay open and nothing answers, until the poll gives up on it (1 s). */
      begin: () => {
        const frozen = servers.standby.freeze();
        return Promise.resolve(() => Promise.resolve(servers.standby.thaw(frozen)));
      },
    },
  ];

  it.each(OUTAGES)(
    'answers every request while the standby is $name under load, and reads from it again once it is back',
    ({ name, begin }) =>
      withLogs(async () => {
        const readers = await Promise.all(
          [0, 1, 2].map((index) => registerUser(client, a.url, email(`load-${index}`))),
        );
        const writer = await registerUser(client, b.url, email('load-writer'));
        const post = expectStatus(
          await client.post(`${a.url}/posts`, { title: 'Loaded', content: 'x' }, writer.token),
          201,
        );
        const postId = post.body.id as number;
        expectStatus(await client.post(`${a.url}/posts/${postId}/comments`, { content: 'Hi' }, writer.token), 201);
        await waitForReplay(servers);
        for (const app of [a, b]) {
          await waitForState(app, 'up');
        }

        const outcomes: Outcome[] = [];
        const ownWritesMissed: string[] = [];
        let running = true;
        const apps = [a, b];
        const readLoops = readers.map(async (reader, index) => {
          for (let round = 0; running; round += 1) {
            const app = apps[(index + round) % 2];
            const paths = ['/posts?limit=10', `/posts/${postId}`, `/posts/${postId}/comments`, `/users/${writer.id}`];
            outcomes.push(await client.get(`${app.url}${paths[round % paths.length]}`, reader.token));
            await sleep(10);
          }
        });
        // The writer writes on one instance and reads back on the other, all along.
        const writeLoop = (async () => {
          for (let round = 0; running; round += 1) {
            const [writeOn, readOn] = round % 2 === 0 ? [a, b] : [b, a];
            const created = await client.post(
              `${writeOn.url}/posts`,
              { title: `Load ${round}`, content: 'x' },
              writer.token,
            );
            outcomes.push(created);
            if (created.status === 201) {
              const readBack = await client.get(`${readOn.url}/posts/${created.body.id}`, writer.token);
              outcomes.push(readBack);
              if (readBack.status !== 200) {
                ownWritesMissed.push(describeOutcome(readBack));
              }
            }
            await sleep(20);
          }
        })();

        const checks = new Checks();
        try {
          await sleep(1_500);
          const readsBeforeStop = await readsOnStandby(servers);
          checks.check('reads went to the standby before the outage', () => expect(readsBeforeStop).toBeGreaterThan(0));
          const end = await begin();
          for (const app of [a, b]) {
            const down = await waitForState(app, 'down');
            checks.check(`${app.name} says the standby is down (and stays ready)`, () =>
              expect(down).toEqual({ url: `127.0.0.1:${servers.standby.port}/posts`, state: 'down' }),
            );
          }
          await sleep(2_000);
          await end();
          for (const app of [a, b]) {
            await waitForState(app, 'up', 30_000);
          }
          // pg_stat_statements starts again from 0 after a crash stop: count from here.
          const readsBack = await readsOnStandby(servers);
          await sleep(1_500);
          const readsLater = await readsOnStandby(servers);
          console.log(`Read replicas: after the standby came back, it ran ${readsLater - readsBack} reads in 1.5 s`);
          checks.check('reads go to the standby again once it is back', () =>
            expect(readsLater).toBeGreaterThan(readsBack),
          );
        } finally {
          running = false;
          await Promise.all([...readLoops, writeLoop]);
        }

        const failed = outcomes.filter((outcome) => outcome.status !== 200 && outcome.status !== 201);
        const slowest = Math.round(Math.max(...outcomes.map((outcome) => outcome.durationMs)));
        console.log(
          `Read replicas: ${outcomes.length} requests while the standby was ${name} and back, ` +
            `${failed.length} failed, the slowest answered in ${slowest} ms`,
        );
        // A frozen standby costs a read at most the poll's second before it is cut and sent to the primary.
        checks.check('every answer came within 2.5 s', () => expect(slowest).toBeLessThan(2_500));
        checks.check('no request failed', () =>
          expect(firstFew(failed.map(describeOutcome))).toEqual({ count: 0, first: [] }),
        );
        checks.check('every write was read back at once on the other instance', () =>
          expect(ownWritesMissed).toEqual([]),
        );
        checks.assertAll();
      })(),
    120_000,
  );

  it(
    `skips the standby while it lags more than REPLICA_MAX_LAG_MS (${STRICT_MAX_LAG_MS} ms) and uses it again once caught up`,
    withLogs(async () => {
      c = await AppProcess.start({
        name: 'instance C',
        env: {
          DATABASE_URL: servers.primary.url,
          DATABASE_REPLICA_URLS: servers.standby.url,
          REPLICA_MAX_LAG_MS: String(STRICT_MAX_LAG_MS),
        },
      });
      const strict = c;
      const reader = await registerUser(client, a.url, email('reader'));
      const writer = await registerUser(client, a.url, email('busy'));
      await waitForReplay(servers);
      // Caught up first: the lag seen next is the writer's below, not the registrations'.
      await waitForState(strict, 'up');

      // A writer keeps the primary moving all along; the standby stays 2 s behind it.
      let writing = true;
      const writes = (async () => {
        while (writing) {
          expectStatus(await client.post(`${a.url}/posts`, { title: 'Busy', content: 'x' }, writer.token), 201);
          await sleep(50);
        }
      })();
      const readOnC = async () => {
        const before = await readsOnStandby(servers);
        const statuses: (number | undefined)[] = [];
        for (let index = 0; index < 10; index += 1) {
          statuses.push((await client.get(`${strict.url}/posts?limit=5`, reader.token)).status);
          statuses.push((await client.get(`${strict.url}/users/${writer.id}`, reader.token)).status);
        }
        return { statuses, onStandby: (await readsOnStandby(servers)) - before };
      };
      try {
        const lagging = await waitForState(strict, 'lagging');
        expect(lagging.lag_ms).toBeGreaterThan(STRICT_MAX_LAG_MS);
        // The tolerant instances keep using it meanwhile.
        expect((await replicasOf(a))[0].state).toBe('up');
        const skipped = await readOnC();
        console.log(
          `Read replicas: while the standby lagged ${lagging.lag_ms} ms, 20 reads on C put ${skipped.onStandby} on it`,
        );
        expect(skipped.statuses).toEqual(new Array(20).fill(200));
        expect(skipped.onStandby).toBe(0);

        // The standby stops holding back its replay: it catches up, though the writes go on.
        await servers.standby.set('recovery_min_apply_delay', '0');
        const back = await waitForState(strict, 'up');
        expect(back.lag_ms).toBeLessThanOrEqual(STRICT_MAX_LAG_MS);
        const used = await readOnC();
        console.log(
          `Read replicas: once it caught up (lag ${back.lag_ms} ms), 20 reads on C put ${used.onStandby} on it`,
        );
        expect(used.statuses).toEqual(new Array(20).fill(200));
        expect(used.onStandby).toBeGreaterThanOrEqual(15);
      } finally {
        writing = false;
        await writes;
      }
    }),
    60_000,
  );
});
