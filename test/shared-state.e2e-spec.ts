import { randomBytes } from 'node:crypto';
import {
  answerWithin,
  createTestApps,
  expectProblem,
  logIn,
  registerUser,
  TEST_PASSWORD,
  TestApp,
} from './support/test-app';

/** Two instances of the service, as behind a load balancer: two Nest apps on one PostgreSQL. */
function twoInstances(env: Record<string, string> = {}) {
  let instances: TestApp[] = [];
  const http = (index: 0 | 1) => () => instances[index].http();

  beforeAll(async () => {
    instances = await createTestApps(2, env);
  });

  afterAll(async () => {
    await Promise.all(instances.map((instance) => instance.close()));
  });

  return { a: { http: http(0) }, b: { http: http(1) } };
}

describe('Two instances on one database', () => {
  const { a, b } = twoInstances();

  it('a user registered through one logs in through the other', async () => {
    const user = await registerUser(a);
    await b.http().get('/users/me').set(user.auth).expect(200);
    await logIn(b, user.email);
  });

  // The other instance's session cache hears of the logout through PostgreSQL's NOTIFY: the
  // contract is "within 100 ms" there (at once on the instance that ended it).
  it('a logout on one makes the token fail on the other within 100 ms', async () => {
    const user = await registerUser(a);
    await b.http().get('/users/me').set(user.auth).expect(200);
    await a.http().post('/auth/logout').set(user.auth).expect(204);
    expectProblem(await answerWithin(() => b.http().get('/users/me').set(user.auth)), 401);
    expectProblem(await b.http().post('/auth/refresh').send({ refresh_token: user.refreshToken }), 401);
  });

  it('a password change on one ends the other sessions on the other', async () => {
    const user = await registerUser(a);
    const other = await logIn(b, user.email);
    await a
      .http()
      .put('/users/me/password')
      .set(user.auth)
      .send({ current_password: TEST_PASSWORD, new_password: 'another fine passphrase' })
      .expect(204);
    expectProblem(await answerWithin(() => b.http().get('/users/me').set(other.auth)), 401);
    await b.http().get('/users/me').set(user.auth).expect(200);
  });

  it('a refresh token spent on one cannot be spent again on the other', async () => {
    const user = await registerUser(a);
    const first = await a.http().post('/auth/refresh').send({ refresh_token: user.refreshToken }).expect(200);
    // Within REFRESH_REUSE_GRACE_SECONDS: a lost race (409), the session goes on.
    expectProblem(await b.http().post('/auth/refresh').send({ refresh_token: user.refreshToken }), 409);
    await b
      .http()
      .post('/auth/refresh')
      .send({ refresh_token: first.body.refresh_token as string })
      .expect(200);
  });
});

const redisUrl = process.env.TEST_REDIS_URL;
const describeWithRedis = redisUrl ? describe : describe.skip;
if (!redisUrl) {
  console.warn(
    'Skipping the shared login-limit tests: no Redis answered at redis://127.0.0.1:6379 (set TEST_REDIS_URL to run them).',
  );
}

describeWithRedis('Two instances sharing login limits through Redis (REDIS_URL)', () => {
  const { a, b } = twoInstances({ REDIS_URL: redisUrl ?? '' });

  it('counts failed logins made on one instance on the other', async () => {
    const user = await registerUser(a);
    for (let failure = 0; failure < 5; failure += 1) {
      const instance = failure % 2 ? b : a;
      expectProblem(
        await instance.http().post('/login').type('form').send({ username: user.email, password: 'wrong password' }),
        401,
      );
    }
    for (const instance of [a, b]) {
      const response = await instance
        .http()
        .post('/login')
        .type('form')
        .send({ username: user.email, password: TEST_PASSWORD });
      expectProblem(response, 429);
      expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    }
  });

  it('forgets the failures on both once a login succeeds on one', async () => {
    const email = `shared-${randomBytes(4).toString('hex')}@example.com`;
    await registerUser(a, email);
    for (let failure = 0; failure < 4; failure += 1) {
      await b.http().post('/login').type('form').send({ username: email, password: 'wrong password' }).expect(401);
    }
    await logIn(a, email);
    for (let failure = 0; failure < 4; failure += 1) {
      await b.http().post('/login').type('form').send({ username: email, password: 'wrong password' }).expect(401);
    }
    await logIn(b, email);
  });
});
