import type { Response } from 'supertest';
import { createTestApp, expectProblem, registerUser, TestApp, TEST_PASSWORD } from './support/test-app';

function expectTooManyRequests(response: Response, maxSeconds: number): void {
  expectProblem(response, 429);
  const retryAfter = Number(response.headers['retry-after']);
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(maxSeconds);
}

const attempt = (t: TestApp, username: string, password: string, headers: Record<string, string> = {}) =>
  t.http().post('/login').set(headers).type('form').send({ username, password });

describe('Brute-force limits on POST /login (defaults: 5 failures per e-mail and address in 900 s)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ LOGIN_MAX_FAILURES: undefined, LOGIN_WINDOW_SECONDS: undefined });
  });

  afterAll(async () => {
    await t.close();
  });

  it('answers 429 with Retry-After after 5 failures, even to the right password', async () => {
    const user = await registerUser(t);
    for (let failure = 0; failure < 5; failure += 1) {
      expectProblem(await attempt(t, user.email, 'wrong password'), 401);
    }
    expectTooManyRequests(await attempt(t, user.email, TEST_PASSWORD), 900);
    expectTooManyRequests(await attempt(t, user.email, 'wrong password'), 900);
  });

  it('counts an e-mail in any case as the same account', async () => {
    const user = await registerUser(t);
    for (let failure = 0; failure < 5; failure += 1) {
      await attempt(t, failure % 2 ? user.email.toUpperCase() : user.email, 'wrong password').expect(401);
    }
    expectTooManyRequests(await attempt(t, ` ${user.email.toUpperCase()} `, TEST_PASSWORD), 900);
  });

  it('does not lock other accounts out for the same address', async () => {
    const locked = await registerUser(t);
    const other = await registerUser(t);
    for (let failure = 0; failure < 5; failure += 1) {
      await attempt(t, locked.email, 'wrong password').expect(401);
    }
    await attempt(t, locked.email, TEST_PASSWORD).expect(429);
    await attempt(t, other.email, TEST_PASSWORD).expect(200);
  });

  it('resets the count after a successful login', async () => {
    const user = await registerUser(t);
    for (let failure = 0; failure < 4; failure += 1) {
      await attempt(t, user.email, 'wrong password').expect(401);
    }
    await attempt(t, user.email, TEST_PASSWORD).expect(200);
    for (let failure = 0; failure < 4; failure += 1) {
      await attempt(t, user.email, 'wrong password').expect(401);
    }
    await attempt(t, user.email, TEST_PASSWORD).expect(200);
  });

  it('counts unknown e-mails too, so guessing accounts is limited the same way', async () => {
    for (let failure = 0; failure < 5; failure += 1) {
      await attempt(t, 'nobody@example.com', 'wrong password').expect(401);
    }
    expectTooManyRequests(await attempt(t, 'nobody@example.com', 'wrong password'), 900);
  });

  it('ignores X-Forwarded-For when TRUST_PROXY is not set: a forged header does not reset the count', async () => {
    const user = await registerUser(t);
    for (let failure = 0; failure < 5; failure += 1) {
      await attempt(t, user.email, 'wrong password', { 'X-Forwarded-For': `198.51.100.${failure}` }).expect(401);
    }
    await attempt(t, user.email, TEST_PASSWORD, { 'X-Forwarded-For': '198.51.100.99' }).expect(429);
  });
});

describe('The login window', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ LOGIN_MAX_FAILURES: '2', LOGIN_WINDOW_SECONDS: '1' });
  });

  afterAll(async () => {
    await t.close();
  });

  it('lets the account in again once the window has passed', async () => {
    const user = await registerUser(t);
    await attempt(t, user.email, 'wrong password').expect(401);
    await attempt(t, user.email, 'wrong password').expect(401);
    expectTooManyRequests(await attempt(t, user.email, TEST_PASSWORD), 1);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await attempt(t, user.email, TEST_PASSWORD).expect(200);
  });
});

describe('Attempts per client address', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ LOGIN_MAX_ATTEMPTS_PER_CLIENT: '6', TRUST_PROXY: 'true' });
  });

  afterAll(async () => {
    await t.close();
  });

  it('answers 429 once one address has made the allowed number of attempts, whatever the accounts', async () => {
    const client = { 'X-Forwarded-For': '203.0.113.10' };
    const user = await registerUser(t);
    for (let index = 0; index < 6; index += 1) {
      await attempt(t, `guess${index}@example.com`, 'wrong password', client).expect(401);
    }
    expectTooManyRequests(await attempt(t, user.email, TEST_PASSWORD, client), 900);
    await attempt(t, user.email, TEST_PASSWORD, { 'X-Forwarded-For': '203.0.113.11' }).expect(200);
  });

  it('with TRUST_PROXY, counts failures per forwarded address and records it on the session', async () => {
    const user = await registerUser(t);
    for (let failure = 0; failure < 5; failure += 1) {
      await attempt(t, user.email, 'wrong password', { 'X-Forwarded-For': '203.0.113.20' }).expect(401);
    }
    await attempt(t, user.email, TEST_PASSWORD, { 'X-Forwarded-For': '203.0.113.20' }).expect(429);
    const login = await attempt(t, user.email, TEST_PASSWORD, { 'X-Forwarded-For': '203.0.113.21' }).expect(200);
    const sessions = await t
      .http()
      .get('/auth/sessions')
      .set('Authorization', `Bearer ${login.body.access_token}`)
      .expect(200);
    expect(sessions.body.find((session: { current: boolean }) => session.current).ip).toBe('203.0.113.21');
  });
});

describe('With REDIS_URL set but Redis unreachable', () => {
  let t: TestApp;

  beforeAll(async () => {
    // Nothing listens on port 1: every Redis command fails at once.
    t = await createTestApp({ REDIS_URL: 'redis://127.0.0.1:1' });
  });

  afterAll(async () => {
    await t.close();
  });

  it('still logs people in and still limits failures, counting in memory', async () => {
    const user = await registerUser(t);
    for (let failure = 0; failure < 5; failure += 1) {
      await attempt(t, user.email, 'wrong password').expect(401);
    }
    expectTooManyRequests(await attempt(t, user.email, TEST_PASSWORD), 900);
  });
});
