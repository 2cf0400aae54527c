import type { Pool } from 'pg';
import { hashSecretToken, newSecretToken } from '../src/common/identity/secret-token';
import { SESSION_LISTENER_NAME } from '../src/sessions/session-cache';
import { createTestApp, logIn, registerUser, TestApp, TestUser } from './support/test-app';

/**
 * The per-instance cache of live sessions (src/sessions/session-cache.ts), kept true by
 * LISTEN/NOTIFY: the instance that ends a session refuses its tokens at once, and an
 * instance whose listener is down or stalled checks the database as without a cache.
 * (Every other instance within 100 ms: test/faults/two-instances.faults-spec.ts, with two
 * processes; two apps in one process share Passport's strategies, so one would check
 * the tokens of both.) "Behind the app's back" below means a change written straight into
 * the database with its triggers off: nothing tells the cache, so it shows whether a
 * request was answered from the cache or from the database.
 */
const ADMIN_EMAIL = 'cache-admin@example.com';
const SETTLE_MS = 100;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Ends a session with no trigger firing (superuser only: session_replication_role). */
async function revokeBehindTheAppsBack(db: Pool, sessionId: number): Promise<void> {
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    await client.query('SET LOCAL session_replication_role = replica');
    await client.query('UPDATE sessions SET revoked_at = now() WHERE id = $1', [sessionId]);
    await client.query('COMMIT');
  } finally {
    client.release();
  }
}

async function status(t: TestApp, user: { auth: Record<string, string> }, path = '/users/me'): Promise<number> {
  return (await t.http().get(path).set(user.auth)).status;
}

/** Polls until the answer is `expected` (at most ~2 s): for the moments the cache may not vouch yet. */
async function eventually(t: TestApp, user: { auth: Record<string, string> }, expected: number): Promise<number> {
  let last = 0;
  for (let tries = 0; tries < 100; tries += 1) {
    last = await status(t, user);
    if (last === expected) {
      return last;
    }
    await sleep(20);
  }
  return last;
}

async function listenerPid(t: TestApp): Promise<number | undefined> {
  const { rows } = await t.db.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()`,
    [SESSION_LISTENER_NAME],
  );
  return rows[0]?.pid;
}

describe('The session cache', () => {
  let a: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    a = await createTestApp({ ADMIN_EMAILS: ADMIN_EMAIL });
    admin = await registerUser(a, ADMIN_EMAIL);
  });

  afterAll(async () => {
    await a.close();
  });

  it('answers a checked session from memory: a revocation nobody is told about goes unseen', async () => {
    const user = await registerUser(a);
    expect(await status(a, user)).toBe(200);
    await revokeBehindTheAppsBack(a.db, user.sessionId);
    // The database says the session has ended; the cache, told nothing, still vouches for it.
    expect(await eventually(a, user, 200)).toBe(200);
    // Any change of the user through the app forgets their sessions: the next request checks the database.
    await a
      .http()
      .patch('/users/me')
      .set(user.auth)
      .send({ username: `cached_${user.id}` });
    expect(await status(a, user)).toBe(401);
  });

  describe('on the instance that made the change, with no notification at all', () => {
    beforeAll(async () => {
      for (const statement of [
        'ALTER TABLE sessions DISABLE TRIGGER sessions_notify_revoked',
        'ALTER TABLE users DISABLE TRIGGER users_notify_changed',
        'ALTER TABLE users DISABLE TRIGGER users_notify_deleted',
      ]) {
        await a.db.query(statement);
      }
    });

    afterAll(async () => {
      for (const statement of [
        'ALTER TABLE sessions ENABLE TRIGGER sessions_notify_revoked',
        'ALTER TABLE users ENABLE TRIGGER users_notify_changed',
        'ALTER TABLE users ENABLE TRIGGER users_notify_deleted',
      ]) {
        await a.db.query(statement);
      }
    });

    /** A user with a second session, both checked (and so cached) by instance a. */
    async function warmUser(): Promise<TestUser & { other: Awaited<ReturnType<typeof logIn>> }> {
      const user = await registerUser(a);
      const other = await logIn(a, user.email);
      expect(await status(a, user)).toBe(200);
      expect(await status(a, other)).toBe(200);
      return { ...user, other };
    }

    it('refuses the token of a logout at once', async () => {
      const user = await warmUser();
      await a.http().post('/auth/logout').set(user.auth).expect(204);
      expect(await status(a, user)).toBe(401);
      expect(await status(a, user.other)).toBe(200);
    });

    it('refuses the token of a session ended from another one at once', async () => {
      const user = await warmUser();
      await a.http().delete(`/auth/sessions/${user.other.sessionId}`).set(user.auth).expect(204);
      expect(await status(a, user.other)).toBe(401);
    });

    it('refuses the other sessions at once after a password change', async () => {
      const user = await warmUser();
      await a
        .http()
        .put('/users/me/password')
        .set(user.auth)
        .send({ current_password: user.password, new_password: 'another long passphrase' })
        .expect(204);
      expect(await status(a, user.other)).toBe(401);
      expect(await status(a, user)).toBe(200);
    });

    it('refuses every session at once after a password reset', async () => {
      const user = await warmUser();
      const token = newSecretToken();
      await a.db.query(
        `INSERT INTO account_tokens (user_id, purpose, token_hash, email, expires_at)
         VALUES ($1, 'password_reset', $2, $3, now() + interval '10 minutes')`,
        [user.id, hashSecretToken(token), user.email],
      );
      await a
        .http()
        .post('/auth/password-reset/confirm')
        .send({ token, new_password: 'a passphrase after reset' })
        .expect(204);
      expect(await status(a, user)).toBe(401);
      expect(await status(a, user.other)).toBe(401);
    });

    it('refuses every session at once after a refresh token is reused', async () => {
      const user = await warmUser();
      await a.http().post('/auth/refresh').send({ refresh_token: user.refreshToken }).expect(200);
      await a.db.query("UPDATE sessions SET rotated_at = now() - interval '1 hour' WHERE id = $1", [user.sessionId]);
      await a.http().post('/auth/refresh').send({ refresh_token: user.refreshToken }).expect(401);
      expect(await status(a, user)).toBe(401);
    });

    it('refuses a disabled account and a deleted one at once', async () => {
      const disabled = await warmUser();
      await a.http().post(`/admin/users/${disabled.id}/disable`).set(admin.auth).expect(200);
      expect(await status(a, disabled)).toBe(401);
      expect(await status(a, disabled.other)).toBe(401);

      const deleted = await warmUser();
      await a.http().delete('/users/me').set(deleted.auth).send({ password: deleted.password }).expect(204);
      expect(await status(a, deleted.other)).toBe(401);
    });

    it('sees a new role at once, both ways', async () => {
      const user = await warmUser();
      expect(await status(a, user, '/admin/users')).toBe(403);
      await a.http().put(`/admin/users/${user.id}/role`).set(admin.auth).send({ role: 'admin' }).expect(200);
      expect(await status(a, user, '/admin/users')).toBe(200);
      await a.http().put(`/admin/users/${user.id}/role`).set(admin.auth).send({ role: 'user' }).expect(200);
      expect(await status(a, user, '/admin/users')).toBe(403);
    });
  });

  describe('when the listener cannot vouch', () => {
    it('checks the database while its listening connection is down, and caches again once it is back', async () => {
      const user = await registerUser(a);
      expect(await status(a, user)).toBe(200);
      const pid = await listenerPid(a);
      expect(pid).toBeDefined();
      await a.db.query('SELECT pg_terminate_backend($1)', [pid]);
      await revokeBehindTheAppsBack(a.db, user.sessionId);
      expect(await status(a, user)).toBe(401);

      // Back (it reconnects after 250 ms): a new session is answered from memory again.
      for (let tries = 0; tries < 100 && (await listenerPid(a)) === undefined; tries += 1) {
        await sleep(50);
      }
      expect(await listenerPid(a)).toBeDefined();
      const again = await logIn(a, user.email);
      expect(await status(a, again)).toBe(200);
      await revokeBehindTheAppsBack(a.db, again.sessionId);
      expect(await eventually(a, again, 200)).toBe(200);
    });

    it('checks the database while its listener has fallen behind (a stalled connection)', async () => {
      const user = await registerUser(a);
      expect(await eventually(a, user, 200)).toBe(200);
      const pid = (await listenerPid(a)) as number;
      // The listener's server process stops: its heartbeats stop coming back.
      process.kill(pid, 'SIGSTOP');
      try {
        await revokeBehindTheAppsBack(a.db, user.sessionId);
        await sleep(SETTLE_MS + 20);
        expect(await status(a, user)).toBe(401);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
    });
  });
});
