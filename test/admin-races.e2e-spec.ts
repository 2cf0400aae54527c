import type { PoolClient } from 'pg';
import {
  createTestApp,
  expectProblem,
  logIn,
  registerUser,
  TestApp,
  TestUser,
  TEST_PASSWORD,
} from './support/test-app';

/**
 * Moderation racing the account's owner, sent for real. A transaction of the test holds a
 * row lock so that the two requests meet where they would deadlock or see stale data; in
 * any order they may run, the answers stay within the contract and the state consistent.
 */
describe('Moderation racing the owner', () => {
  const ADMIN = 'race-admin@example.com';
  let t: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    t = await createTestApp({ ADMIN_EMAILS: ADMIN });
    admin = await registerUser(t, ADMIN);
  });

  afterAll(async () => {
    await t.close();
  });

  const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

  /** Runs `requests` while a transaction of the test holds `lock`, then lets it go. */
  async function whileLocked<T>(lock: { sql: string; id: number }, requests: () => Promise<T>): Promise<T> {
    const client: PoolClient = await t.db.connect();
    try {
      await client.query('BEGIN');
      await client.query(lock.sql, [lock.id]);
      const answers = requests();
      // Long enough for the requests to queue on the lock; any other order is a valid race too.
      await pause(600);
      await client.query('COMMIT');
      return await answers;
    } finally {
      client.release();
    }
  }

  it('disabling an account while its owner logs out: 200 and 204 (or 401), never a deadlock', async () => {
    const user = await registerUser(t);
    const other = await logIn(t, user.email);
    const [disabled, loggedOut] = await whileLocked(
      { sql: 'SELECT 1 FROM sessions WHERE id = $1 FOR UPDATE', id: user.sessionId },
      async () => {
        const disable = t
          .http()
          .post(`/admin/users/${user.id}/disable`)
          .set(admin.auth)
          .then((answer) => answer);
        await pause(300);
        return Promise.all([disable, t.http().post('/auth/logout').set(other.auth)]);
      },
    );
    expect(disabled.status).toBe(200);
    expect([204, 401]).toContain(loggedOut.status);
    expectProblem(await t.http().get('/users/me').set(other.auth), 401);
  });

  it('an admin deleting a post while its owner deletes the account: 204 and 204 or 404, never a deadlock', async () => {
    const user = await registerUser(t);
    const post = await t.http().post('/posts').set(user.auth).send({ title: 'race', content: 'race' }).expect(201);
    const [deletedAccount, deletedPost] = await whileLocked(
      { sql: 'SELECT 1 FROM users WHERE id = $1 FOR UPDATE', id: user.id },
      async () => {
        const account = t.http().delete('/users/me').set(user.auth).send({ password: TEST_PASSWORD });
        await pause(100);
        return Promise.all([
          account,
          t
            .http()
            .delete(`/posts/${post.body.id as number}`)
            .set(admin.auth),
        ]);
      },
    );
    expect(deletedAccount.status).toBe(204);
    expect([204, 404]).toContain(deletedPost.status);
    const left = await t.db.query('SELECT 1 FROM posts WHERE id = $1', [post.body.id]);
    expect(left.rowCount).toBe(0);
  });

  it('an admin deleting a post its owner makes a draft meanwhile: 404, and the draft stays', async () => {
    const user = await registerUser(t);
    const post = await t.http().post('/posts').set(user.auth).send({ title: 'soon a draft', content: 'c' }).expect(201);
    const client = await t.db.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT 1 FROM posts WHERE id = $1 FOR UPDATE', [post.body.id]);
      const removal = t
        .http()
        .delete(`/posts/${post.body.id as number}`)
        .set(admin.auth);
      const answer = removal.then((response) => response);
      await pause(300);
      await client.query('UPDATE posts SET published = false WHERE id = $1', [post.body.id]);
      await client.query('COMMIT');
      expectProblem(await answer, 404);
    } finally {
      client.release();
    }
    const left = await t.db.query('SELECT published FROM posts WHERE id = $1', [post.body.id]);
    expect(left.rows).toEqual([{ published: false }]);
  });

  it('wrong-password logins racing the deletion of their account: 401 (or 429), never 500', async () => {
    const statuses = new Set<number>();
    for (let round = 0; round < 20; round += 1) {
      const user = await registerUser(t);
      const [deleted, login] = await Promise.all([
        t.http().delete('/users/me').set(user.auth).send({ password: TEST_PASSWORD }),
        t.http().post('/login').type('form').send({ username: user.email, password: 'not the password' }),
      ]);
      expect(deleted.status).toBe(204);
      statuses.add(login.status);
    }
    expect([...statuses].filter((status) => status !== 401 && status !== 429)).toEqual([]);
  });
});
