import { createHash } from 'node:crypto';
import { SessionsService } from '../src/sessions/sessions.service';
import {
  createTestApp,
  expectProblem,
  logIn,
  registerUser,
  TestApp,
  TestUser,
  TEST_PASSWORD,
} from './support/test-app';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const INVALID_TOKEN = 'Bearer error="invalid_token"';

describe('Sessions', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(async () => {
    await t.close();
  });

  const refresh = (refreshToken: string) => t.http().post('/auth/refresh').send({ refresh_token: refreshToken });
  const me = (auth: { Authorization: string }) => t.http().get('/users/me').set(auth);

  async function expectSessionEnded(session: { auth: { Authorization: string }; refreshToken: string }) {
    const access = await me(session.auth);
    expectProblem(access, 401);
    expect(access.headers['www-authenticate']).toBe(INVALID_TOKEN);
    expectProblem(await refresh(session.refreshToken), 401);
  }

  describe('POST /login', () => {
    it('returns a 256-bit refresh token and its lifetime next to the access token', async () => {
      const user = await registerUser(t);
      const response = await t
        .http()
        .post('/login')
        .type('form')
        .send({ username: user.email, password: TEST_PASSWORD })
        .expect(200);
      expect(response.body).toEqual({
        access_token: expect.any(String),
        token_type: 'bearer',
        expires_in: 1800,
        refresh_token: expect.stringMatching(/^[A-Za-z0-9_-]{43,}$/),
        refresh_expires_in: 30 * 24 * 60 * 60,
      });
      expect(Buffer.from(response.body.refresh_token, 'base64url').length).toBeGreaterThanOrEqual(32);
    });

    it('stores only the SHA-256 hash of the refresh token, in a session the access token names', async () => {
      const user = await registerUser(t);
      const { rows } = await t.db.query('SELECT * FROM sessions WHERE id = $1', [user.sessionId]);
      expect(rows).toHaveLength(1);
      expect(rows[0].user_id).toBe(user.id);
      expect(rows[0].refresh_token_hash).toBe(sha256(user.refreshToken));
      const everything = JSON.stringify((await t.db.query('SELECT * FROM sessions')).rows);
      expect(everything).not.toContain(user.refreshToken);
    });

    it('starts a new session at each login', async () => {
      const user = await registerUser(t);
      const second = await logIn(t, user.email);
      expect(second.sessionId).not.toBe(user.sessionId);
      await me(user.auth).expect(200);
      await me(second.auth).expect(200);
    });
  });

  describe('POST /auth/refresh', () => {
    it('trades a refresh token for new tokens on the same session, with Cache-Control: no-store', async () => {
      const user = await registerUser(t);
      const response = await refresh(user.refreshToken).expect(200);
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.body.refresh_token).not.toBe(user.refreshToken);
      const claims = JSON.parse(Buffer.from(response.body.access_token.split('.')[1], 'base64url').toString());
      expect(claims.sid).toBe(user.sessionId);
      const who = await me({ Authorization: `Bearer ${response.body.access_token}` }).expect(200);
      expect(who.body.id).toBe(user.id);
    });

    it('accepts the OAuth2 form with grant_type=refresh_token', async () => {
      const user = await registerUser(t);
      const response = await t
        .http()
        .post('/auth/refresh')
        .type('form')
        .send({ grant_type: 'refresh_token', refresh_token: user.refreshToken })
        .expect(200);
      expect(response.body.token_type).toBe('bearer');
    });

    it('keeps rotating: each new refresh token works once', async () => {
      const user = await registerUser(t);
      let refreshToken = user.refreshToken;
      for (let round = 0; round < 3; round += 1) {
        refreshToken = (await refresh(refreshToken).expect(200)).body.refresh_token;
      }
      await refresh(refreshToken).expect(200);
    });

    it('takes a spent refresh token presented again after the grace window as theft: 401, and the whole session ends', async () => {
      const user = await registerUser(t);
      const rotated = await refresh(user.refreshToken).expect(200);
      // As if REFRESH_REUSE_GRACE_SECONDS (10) had passed since the refresh.
      await t.db.query(`UPDATE sessions SET rotated_at = now() - interval '11 seconds' WHERE id = $1`, [
        user.sessionId,
      ]);
      const thief = await refresh(user.refreshToken);
      expectProblem(thief, 401);
      await expectSessionEnded({
        auth: { Authorization: `Bearer ${rotated.body.access_token}` },
        refreshToken: rotated.body.refresh_token,
      });
      const { rows } = await t.db.query('SELECT revoked_at FROM sessions WHERE id = $1', [user.sessionId]);
      expect(rows[0].revoked_at).not.toBeNull();
    });

    it('answers 409 to a refresh token spent a moment ago, and keeps the session', async () => {
      const user = await registerUser(t);
      const rotated = await refresh(user.refreshToken).expect(200);
      const again = await refresh(user.refreshToken);
      expectProblem(again, 409);
      expect(again.body.detail).toMatch(/use the tokens that the first refresh returned/);
      await t
        .http()
        .get('/users/me')
        .set({ Authorization: `Bearer ${rotated.body.access_token}` })
        .expect(200);
      await refresh(rotated.body.refresh_token).expect(200);
    });

    it('lets exactly one of concurrent refreshes with the same token win; the others get 409', async () => {
      const user = await registerUser(t);
      const answers = await Promise.all(Array.from({ length: 8 }, () => refresh(user.refreshToken)));
      const statuses = answers.map((answer) => answer.status).sort();
      expect(statuses.filter((status) => status === 200)).toHaveLength(1);
      expect(statuses.filter((status) => status === 409)).toHaveLength(7);
      const winner = answers.find((answer) => answer.status === 200);
      await refresh(winner?.body.refresh_token as string).expect(200);
    });

    it('answers 401 to an unknown refresh token and leaves the sessions as they were', async () => {
      const before = (await t.db.query('SELECT id, revoked_at FROM sessions ORDER BY id')).rows;
      const response = await refresh('not-a-token-we-issued');
      expectProblem(response, 401);
      expect(response.body.detail).toMatch(/POST \/login/);
      expect((await t.db.query('SELECT id, revoked_at FROM sessions ORDER BY id')).rows).toEqual(before);
    });

    it('answers 422 to a missing refresh token, another grant type, or an unknown field', async () => {
      const user = await registerUser(t);
      expectProblem(await t.http().post('/auth/refresh').send({}), 422);
      expectProblem(
        await t
          .http()
          .post('/auth/refresh')
          .type('form')
          .send({ grant_type: 'password', refresh_token: user.refreshToken }),
        422,
      );
      expectProblem(await t.http().post('/auth/refresh').send({ refresh_token: user.refreshToken, user_id: 1 }), 422);
      await refresh(user.refreshToken).expect(200);
    });

    it('refuses an expired session', async () => {
      const user = await registerUser(t);
      await t.db.query(`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = $1`, [user.sessionId]);
      await expectSessionEnded(user);
    });
  });

  describe('POST /auth/logout', () => {
    it('ends the session at once: the very next request with its access or refresh token is 401', async () => {
      const user = await registerUser(t);
      const other = await logIn(t, user.email);
      await t.http().post('/auth/logout').set(user.auth).expect(204);
      await expectSessionEnded(user);
      await me(other.auth).expect(200);
    });

    it('needs a token', async () => {
      const response = await t.http().post('/auth/logout');
      expectProblem(response, 401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
    });
  });

  describe('GET /auth/sessions', () => {
    it("lists the caller's live sessions, marking the current one", async () => {
      const user = await registerUser(t);
      const phone = await logIn(t, user.email, TEST_PASSWORD, { 'User-Agent': 'PhoneApp/2.0' });
      const ended = await logIn(t, user.email);
      await t.http().post('/auth/logout').set(ended.auth).expect(204);
      await registerUser(t);

      const response = await t.http().get('/auth/sessions').set(phone.auth).expect(200);
      const sessions = response.body as Record<string, unknown>[];
      expect(sessions.map((session) => session.id).sort()).toEqual([user.sessionId, phone.sessionId].sort());
      const current = sessions.find((session) => session.id === phone.sessionId);
      expect(current).toEqual({
        id: phone.sessionId,
        created_at: expect.stringMatching(/Z$/),
        last_used_at: expect.stringMatching(/Z$/),
        user_agent: 'PhoneApp/2.0',
        ip: expect.stringMatching(/127\.0\.0\.1/),
        current: true,
      });
      expect(sessions.find((session) => session.id === user.sessionId)?.current).toBe(false);
      expect(JSON.stringify(sessions)).not.toContain(phone.refreshToken);
    });
  });

  describe('DELETE /auth/sessions/{id}', () => {
    it('ends another session of the caller', async () => {
      const user = await registerUser(t);
      const laptop = await logIn(t, user.email);
      await t.http().delete(`/auth/sessions/${laptop.sessionId}`).set(user.auth).expect(204);
      await expectSessionEnded(laptop);
      await me(user.auth).expect(200);
    });

    it("answers 404 for another user's session and leaves it alone", async () => {
      const user = await registerUser(t);
      const stranger = await registerUser(t);
      const response = await t.http().delete(`/auth/sessions/${stranger.sessionId}`).set(user.auth);
      expectProblem(response, 404);
      await me(stranger.auth).expect(200);
    });

    it('answers 404 for a session that is already over, and 422 for a bad id', async () => {
      const user = await registerUser(t);
      const ended = await logIn(t, user.email);
      await t.http().post('/auth/logout').set(ended.auth).expect(204);
      expectProblem(await t.http().delete(`/auth/sessions/${ended.sessionId}`).set(user.auth), 404);
      expectProblem(await t.http().delete('/auth/sessions/abc').set(user.auth), 422);
    });
  });

  describe('PUT /users/me/password', () => {
    const changePassword = (user: TestUser, body: object) =>
      t.http().put('/users/me/password').set(user.auth).send(body);

    it('changes the password and ends every other session, but not the current one', async () => {
      const user = await registerUser(t);
      const other = await logIn(t, user.email);
      await changePassword(user, { current_password: TEST_PASSWORD, new_password: 'a brand new passphrase' }).expect(
        204,
      );

      await me(user.auth).expect(200);
      await refresh(user.refreshToken).expect(200);
      await expectSessionEnded(other);
      expectProblem(
        await t.http().post('/login').type('form').send({ username: user.email, password: TEST_PASSWORD }),
        401,
      );
      await logIn(t, user.email, 'a brand new passphrase');
    });

    it('answers 403 to a wrong current password and changes nothing', async () => {
      const user = await registerUser(t);
      const other = await logIn(t, user.email);
      const response = await changePassword(user, {
        current_password: 'not the password',
        new_password: 'whatever else 1',
      });
      expectProblem(response, 403);
      await me(other.auth).expect(200);
      await logIn(t, user.email);
    });

    it('answers 422 to a new password outside 8 to 72 bytes or a missing field', async () => {
      const user = await registerUser(t);
      expectProblem(await changePassword(user, { current_password: TEST_PASSWORD, new_password: 'short' }), 422);
      expectProblem(await changePassword(user, { current_password: TEST_PASSWORD, new_password: 'x'.repeat(73) }), 422);
      expectProblem(await changePassword(user, { new_password: 'long enough password' }), 422);
      await logIn(t, user.email);
    });
  });

  describe('DELETE /users/me', () => {
    it('deletes the user with their posts, votes and sessions; their tokens give 401', async () => {
      const user = await registerUser(t);
      const other = await logIn(t, user.email);
      const author = await registerUser(t);
      const own = await t.http().post('/posts').set(user.auth).send({ title: 'Mine', content: 'x' }).expect(201);
      const theirs = await t.http().post('/posts').set(author.auth).send({ title: 'Theirs', content: 'y' }).expect(201);
      await t.http().post('/vote').set(user.auth).send({ post_id: theirs.body.id, dir: 1 }).expect(201);
      await t.http().post('/vote').set(author.auth).send({ post_id: own.body.id, dir: 1 }).expect(201);

      await t.http().delete('/users/me').set(user.auth).send({ password: TEST_PASSWORD }).expect(204);

      for (const [table, column] of [
        ['users', 'id'],
        ['posts', 'owner_id'],
        ['votes', 'user_id'],
        ['sessions', 'user_id'],
      ]) {
        const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM ${table} WHERE ${column} = $1`, [user.id]);
        expect({ table, rows: rows[0].n }).toEqual({ table, rows: 0 });
      }
      expect(
        (await t.db.query('SELECT count(*)::int AS n FROM votes WHERE post_id = $1', [own.body.id])).rows[0].n,
      ).toBe(0);
      await expectSessionEnded(user);
      await expectSessionEnded(other);
      const theirPost = await t.http().get(`/posts/${theirs.body.id}`).set(author.auth).expect(200);
      expect(theirPost.body.votes).toBe(0);
    });

    it('answers 403 to a wrong password and keeps the account', async () => {
      const user = await registerUser(t);
      expectProblem(await t.http().delete('/users/me').set(user.auth).send({ password: 'not the password' }), 403);
      expectProblem(await t.http().delete('/users/me').set(user.auth).send({}), 422);
      await me(user.auth).expect(200);
    });
  });

  describe('cleanup', () => {
    it('removes expired sessions and sessions revoked more than a day ago, and keeps the rest', async () => {
      const user = await registerUser(t);
      const expired = await logIn(t, user.email);
      const revokedLongAgo = await logIn(t, user.email);
      const revokedJustNow = await logIn(t, user.email);
      await t.db.query(`UPDATE sessions SET expires_at = now() - interval '1 minute' WHERE id = $1`, [
        expired.sessionId,
      ]);
      await t.db.query(`UPDATE sessions SET revoked_at = now() - interval '2 days' WHERE id = $1`, [
        revokedLongAgo.sessionId,
      ]);
      await t.http().post('/auth/logout').set(revokedJustNow.auth).expect(204);

      await t.app.get(SessionsService).removeEndedSessions();

      const { rows } = await t.db.query('SELECT id FROM sessions WHERE user_id = $1 ORDER BY id', [user.id]);
      expect(rows.map((row) => row.id)).toEqual([user.sessionId, revokedJustNow.sessionId].sort((a, b) => a - b));
    });
  });
});
