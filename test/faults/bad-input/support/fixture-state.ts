import { logIn, registerUser, TestApp, TEST_PASSWORD } from '../../../support/test-app';
import { sha256 } from './fixtures';
import { Account, AccountRow, FixtureState } from './requests';

/*
 * The users, posts, sessions and tokens the fixtures name, made through the API, and put
 * back when a generated request changed them.
 */

/** The columns of an account that a generated request may change: PATCH /users/me, a password change. */
const ACCOUNT_COLUMNS = ['email', 'username', 'email_verified_at', 'password_hash'] as const;

async function accountRowOf(t: TestApp, id: number): Promise<AccountRow | undefined> {
  // As text, so a timestamp compares to the microsecond.
  const columns = ACCOUNT_COLUMNS.map((column) => `${column}::text AS ${column}`).join(', ');
  const { rows } = await t.db.query<AccountRow>(`SELECT ${columns} FROM users WHERE id = $1`, [id]);
  return rows[0];
}

async function newAccount(t: TestApp): Promise<Account> {
  const user = await registerUser(t);
  return { ...user, row: (await accountRowOf(t, user.id))! };
}

async function createPost(t: TestApp, owner: Account, published: boolean): Promise<number> {
  const response = await t
    .http()
    .post('/posts')
    .set(owner.auth)
    .send({ title: published ? 'Published fixture' : 'Draft fixture', content: 'Fixture content', published });
  expect(response.status).toBe(201);
  return response.body.id as number;
}

async function newSpentSession(t: TestApp, alice: Account): Promise<FixtureState['spent']> {
  const session = await logIn(t, alice.email);
  await t.http().post('/auth/refresh').send({ refresh_token: session.refreshToken }).expect(200);
  return { sessionId: session.sessionId, refreshToken: session.refreshToken };
}

/** Alice and bob with a published post and a draft each, a spent session, a deleted user and a logged-out token. */
export async function createFixtures(t: TestApp): Promise<FixtureState> {
  const alice = await newAccount(t);
  const bob = await newAccount(t);
  const deleted = await registerUser(t);
  await t.http().delete('/users/me').set(deleted.auth).send({ password: TEST_PASSWORD }).expect(204);
  const loggedOut = await logIn(t, alice.email);
  await t.http().post('/auth/logout').set(loggedOut.auth).expect(204);
  return {
    alice,
    bob,
    posts: {
      alicePublished: await createPost(t, alice, true),
      aliceDraft: await createPost(t, alice, false),
      bobPublished: await createPost(t, bob, true),
      bobDraft: await createPost(t, bob, false),
    },
    spent: await newSpentSession(t, alice),
    deletedUser: { id: deleted.id, token: deleted.token },
    loggedOutToken: loggedOut.token,
  };
}

/**
 * The account as it was: re-registered if deleted, its e-mail, username and password back, logged in
 * again if its session ended.
 */
async function restoreAccount(t: TestApp, account: Account): Promise<Account> {
  const row = await accountRowOf(t, account.id);
  if (row === undefined) {
    return newAccount(t);
  }
  // A generated PATCH /users/me or PUT /users/me/password went through: back to what the fixtures log in with.
  const changed = ACCOUNT_COLUMNS.filter((column) => row[column] !== account.row[column]);
  if (changed.length > 0) {
    await t.db.query(
      `UPDATE users SET ${changed.map((column, i) => `${column} = $${i + 2}`).join(', ')} WHERE id = $1`,
      [account.id, ...changed.map((column) => account.row[column])],
    );
  }
  const live = await t.db.query(
    'SELECT 1 FROM sessions WHERE id = $1 AND refresh_token_hash = $2 AND revoked_at IS NULL AND expires_at > now()',
    [account.sessionId, sha256(account.refreshToken)],
  );
  return live.rowCount ? account : { ...account, ...(await logIn(t, account.email)) };
}

async function restorePost(t: TestApp, id: number, owner: Account, published: boolean): Promise<number> {
  const { rows } = await t.db.query<{ owner_id: number; published: boolean }>(
    'SELECT owner_id, published FROM posts WHERE id = $1',
    [id],
  );
  if (rows[0]?.owner_id !== owner.id) {
    return createPost(t, owner, published);
  }
  if (rows[0].published !== published) {
    await t.db.query('UPDATE posts SET published = $1 WHERE id = $2', [published, id]);
  }
  return id;
}

/**
 * A generated request that succeeded may have deleted an account, logged a session out,
 * changed a password or deleted a post: put the fixtures back so the next requests still
 * reach the rules behind the guard.
 */
export async function restoreFixtures(t: TestApp, state: FixtureState): Promise<FixtureState> {
  const alice = await restoreAccount(t, state.alice);
  const bob = await restoreAccount(t, state.bob);
  const spentIsLive = await t.db.query('SELECT 1 FROM sessions WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL', [
    state.spent.sessionId,
    alice.id,
  ]);
  return {
    ...state,
    alice,
    bob,
    posts: {
      alicePublished: await restorePost(t, state.posts.alicePublished, alice, true),
      aliceDraft: await restorePost(t, state.posts.aliceDraft, alice, false),
      bobPublished: await restorePost(t, state.posts.bobPublished, bob, true),
      bobDraft: await restorePost(t, state.posts.bobDraft, bob, false),
    },
    spent: spentIsLive.rowCount ? state.spent : await newSpentSession(t, alice),
  };
}
