import { randomBytes } from 'node:crypto';
import { createTestDatabase } from '../support/test-app';
import { AppProcess, killAllAppProcesses, sleep, withLogsOnFailure } from './support/app-process';
import {
  expectProblem,
  expectStatus,
  FAULTS_PASSWORD,
  HttpClient,
  Outcome,
  randomLoopbackAddress,
  registerUser,
} from './support/load';
import { startTestRedis, TestRedis } from './support/redis';

const LOGIN_MAX_FAILURES = 3;
const RATE_LIMIT_MAX = 30;
const RATE_LIMIT_WINDOW_SECONDS = 60;
const ADMIN_EMAIL = 'two-instances-admin@example.com';
/** The contract's bound for another instance to honour a session's end (each caches live sessions). */
const OTHER_INSTANCE_MS = 100;

/** Two processes of the built app on two ports, one PostgreSQL database, one Redis. */
describe('Two instances of the built app sharing PostgreSQL and Redis', () => {
  let a: AppProcess;
  let b: AppProcess;
  let redis: TestRedis | undefined;
  let dropDatabase: (() => Promise<void>) | undefined;
  const clients: HttpClient[] = [];

  /** A client with a source address of its own: fresh per-client counters in Redis. */
  function newClient(): HttpClient {
    const client = new HttpClient({ localAddress: randomLoopbackAddress(), timeoutMs: 10_000 });
    clients.push(client);
    return client;
  }

  const email = (label: string) => `${label}-${randomBytes(4).toString('hex')}@example.com`;
  const logIn = (client: HttpClient, instance: AppProcess, username: string, password: string) =>
    client.request('POST', `${instance.url}/login`, { form: { username, password } });
  const withLogs = (body: () => Promise<void>) => () => withLogsOnFailure(() => [a, b], body);

  function expectTooManyRequests(outcome: Outcome, maxRetryAfterSeconds: number): void {
    expectProblem(outcome, 429);
    const retryAfter = Number(outcome.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(maxRetryAfterSeconds);
  }

  beforeAll(async () => {
    redis = await startTestRedis();
    const database = await createTestDatabase();
    dropDatabase = database.drop;
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      LOGIN_MAX_FAILURES: String(LOGIN_MAX_FAILURES),
      RATE_LIMIT_MAX: String(RATE_LIMIT_MAX),
      RATE_LIMIT_WINDOW_SECONDS: String(RATE_LIMIT_WINDOW_SECONDS),
      ADMIN_EMAILS: ADMIN_EMAIL,
    };
    // One after the other: both would run the migrations at once otherwise.
    a = await AppProcess.start({ name: 'instance A', env });
    b = await AppProcess.start({ name: 'instance B', env });
  }, 90_000);

  afterAll(async () => {
    clients.forEach((client) => client.close());
    await killAllAppProcesses();
    await dropDatabase?.();
    await redis?.stop();
  });

  it(
    'lets a user registered through one instance log in through the other',
    withLogs(async () => {
      const client = newClient();
      const address = email('shared');
      const user = await registerUser(client, a.url, address, b.url);
      const me = expectStatus(await client.get(`${b.url}/users/me`, user.token), 200);
      expect(me.body).toEqual(expect.objectContaining({ id: user.id, email: address }));
      expectStatus(await client.get(`${a.url}/users/me`, user.token), 200);
      expectProblem(await client.post(`${b.url}/users`, { email: address, password: FAULTS_PASSWORD }), 409);
    }),
  );

  it(
    `refuses the login after ${LOGIN_MAX_FAILURES} failures spread over both, with 429 and Retry-After on either`,
    withLogs(async () => {
      const client = newClient();
      const user = await registerUser(client, a.url, email('limited'));
      for (let failure = 0; failure < LOGIN_MAX_FAILURES; failure += 1) {
        const instance = failure % 2 === 0 ? a : b;
        expectProblem(await logIn(client, instance, user.email, 'a wrong password'), 401);
      }
      // The right password now: refused all the same, on both instances.
      expectTooManyRequests(await logIn(client, b, user.email, FAULTS_PASSWORD), 900);
      expectTooManyRequests(await logIn(client, a, user.email, FAULTS_PASSWORD), 900);
    }),
  );

  it(
    `lets ${RATE_LIMIT_MAX} requests spread over both instances pass and refuses the next with 429 on either`,
    withLogs(async () => {
      // The token comes from another address, so the registration does not count here.
      const user = await registerUser(newClient(), a.url, email('rate'));
      const client = newClient();
      const statuses: (number | undefined)[] = [];
      for (let index = 0; index < RATE_LIMIT_MAX; index += 1) {
        const instance = index % 2 === 0 ? a : b;
        statuses.push((await client.get(`${instance.url}/posts`, user.token)).status);
      }
      expect(statuses).toEqual(new Array(RATE_LIMIT_MAX).fill(200));

      // Each instance saw only half the limit: only a shared count refuses these.
      expectTooManyRequests(await client.get(`${a.url}/posts`, user.token), RATE_LIMIT_WINDOW_SECONDS);
      expectTooManyRequests(await client.get(`${b.url}/posts`, user.token), RATE_LIMIT_WINDOW_SECONDS);
      // Health checks are not limited.
      for (const instance of [a, b]) {
        expectStatus(await client.get(`${instance.url}/health`), 200);
        expectStatus(await client.get(`${instance.url}/health/ready`), 200);
      }
    }),
  );

  it(
    'refuses a token at once on the instance of the logout, and within 100 ms on the other',
    withLogs(async () => {
      const client = newClient();
      const user = await registerUser(client, a.url, email('logout'));
      // Checked (and cached) by both instances first.
      expectStatus(await client.get(`${a.url}/users/me`, user.token), 200);
      expectStatus(await client.get(`${b.url}/users/me`, user.token), 200);
      expectStatus(await client.post(`${a.url}/auth/logout`, undefined, user.token), 204);
      expectProblem(await client.get(`${a.url}/users/me`, user.token), 401);
      expectProblem(await client.post(`${b.url}/auth/refresh`, { refresh_token: user.refreshToken }), 401);
      await sleep(OTHER_INSTANCE_MS);
      expectProblem(await client.get(`${b.url}/users/me`, user.token), 401);
    }),
  );

  it(
    "honours an admin's disabling and role change made on one instance within 100 ms on the other",
    withLogs(async () => {
      const client = newClient();
      const admin = await registerUser(client, a.url, ADMIN_EMAIL);
      const user = await registerUser(client, a.url, email('moderated'));
      expectProblem(await client.get(`${b.url}/admin/users`, user.token), 403);
      expectStatus(
        await client.request('PUT', `${a.url}/admin/users/${user.id}/role`, {
          json: { role: 'admin' },
          headers: { authorization: `Bearer ${admin.token}` },
        }),
        200,
      );
      await sleep(OTHER_INSTANCE_MS);
      expectStatus(await client.get(`${b.url}/admin/users`, user.token), 200);
      expectStatus(await client.post(`${a.url}/admin/users/${user.id}/disable`, undefined, admin.token), 200);
      await sleep(OTHER_INSTANCE_MS);
      expectProblem(await client.get(`${b.url}/users/me`, user.token), 401);
    }),
  );
});
