import { randomBytes } from 'node:crypto';
import type { Response } from 'supertest';
import {
  answerWithin,
  createTestApp,
  createTestApps,
  expectProblem,
  logIn,
  registerUser,
  TestApp,
  TestSession,
  TestUser,
  TEST_PASSWORD,
} from './support/test-app';

/**
 * Roles and moderation (API.md, "Roles and moderation"), end to end: ADMIN_EMAILS, the
 * /admin/users routes, disabling accounts (also on a second instance and racing logins),
 * and what admins may do to other users' posts.
 */

const ISO_TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const ADMIN_EMAIL = 'admin@example.com';
const BOSS_EMAIL = 'boss@example.com';
const WRONG_PASSWORD = 'not the password of this account';

type Auth = { Authorization: string };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Starts `task` after `ms` milliseconds (a request is sent when it is awaited). */
const after = <T>(ms: number, task: () => PromiseLike<T>): Promise<T> => sleep(ms).then(task);

let counter = 0;

/** An address no other test of this file uses. */
function uniqueEmail(prefix = 'adm'): string {
  counter += 1;
  return `${prefix}${counter}-${randomBytes(3).toString('hex')}@example.com`;
}

const me = (t: TestApp, auth: Auth) => t.http().get('/users/me').set(auth);
const refresh = (t: TestApp, refreshToken: string) =>
  t.http().post('/auth/refresh').send({ refresh_token: refreshToken });
const login = (t: TestApp, username: string, password = TEST_PASSWORD) =>
  t.http().post('/login').type('form').send({ username, password });
const listUsers = (t: TestApp, auth: Auth, query: Record<string, string | number | undefined> = {}) =>
  t.http().get('/admin/users').query(query).set(auth);
const setRole = (t: TestApp, auth: Auth, id: number, body: object) =>
  t.http().put(`/admin/users/${id}/role`).set(auth).send(body);
const disable = (t: TestApp, auth: Auth, id: number) => t.http().post(`/admin/users/${id}/disable`).set(auth);
const enable = (t: TestApp, auth: Auth, id: number) => t.http().post(`/admin/users/${id}/enable`).set(auth);

/** The `AdminUser` of an account, as GET /admin/users and the admin routes answer it. */
function adminUser(user: { id: number; email: string }, fields: Record<string, unknown> = {}) {
  return {
    id: user.id,
    username: null,
    email: user.email,
    created_at: expect.stringMatching(ISO_TIMESTAMP),
    role: 'user',
    email_verified: false,
    disabled_at: null,
    ...fields,
  };
}

/** The URL of the `rel="next"` page of a `Link` header, or undefined on the last page. */
function nextLink(response: Response): string | undefined {
  const link = response.headers.link as string | undefined;
  if (link === undefined) {
    return undefined;
  }
  const match = /^<([^>]+)>; rel="next"$/.exec(link);
  if (!match) {
    throw new Error(`not a Link header of a next page: ${link}`);
  }
  return match[1];
}

/** Follows the `Link` headers from `first` to the last page; every page's items, in order. */
async function walk(t: TestApp, auth: Auth, first: string): Promise<{ pages: number; items: { id: number }[] }> {
  const items: { id: number }[] = [];
  let pages = 0;
  let url: string | undefined = first;
  while (url !== undefined) {
    const response = await t.http().get(url).set(auth).expect(200);
    pages += 1;
    items.push(...(response.body as { id: number }[]));
    url = nextLink(response);
    if (pages > 10_000) {
      throw new Error('the Link headers never end');
    }
  }
  return { pages, items };
}

/** The ids of the users whose e-mail or username contains `text` (literally, any case), newest first. */
async function idsContaining(t: TestApp, text: string): Promise<number[]> {
  const { rows } = await t.db.query<{ id: number }>(
    `SELECT id FROM users
      WHERE strpos(lower(email), lower($1)) > 0 OR strpos(lower(coalesce(username, '')), lower($1)) > 0
      ORDER BY id DESC`,
    [text],
  );
  return rows.map((row) => row.id);
}

async function adminCount(t: TestApp): Promise<number> {
  const { rows } = await t.db.query<{ count: string }>(`SELECT count(*) AS count FROM users WHERE role = 'admin'`);
  return Number(rows[0].count);
}

/** Registers with this address (any case) and logs in. */
async function registerWith(t: TestApp, email: string): Promise<TestUser> {
  return registerUser(t, email);
}

describe('Roles and moderation', () => {
  let t: TestApp;
  let admin: TestUser;
  let boss: TestUser;

  beforeAll(async () => {
    // Any case, and spaces around the commas.
    t = await createTestApp({ ADMIN_EMAILS: 'Admin@Example.COM ,  BOSS@example.com' });
    admin = await registerWith(t, ADMIN_EMAIL);
    boss = await registerWith(t, 'Boss@Example.com');
  });

  afterAll(async () => {
    await t.close();
  });

  describe('ADMIN_EMAILS', () => {
    it('makes an account registered with a listed address (in any case) an admin from its registration', async () => {
      expect((await me(t, admin.auth).expect(200)).body).toEqual({
        id: admin.id,
        username: null,
        email: ADMIN_EMAIL,
        created_at: expect.stringMatching(ISO_TIMESTAMP),
        role: 'admin',
        email_verified: false,
      });
      expect((await me(t, boss.auth).expect(200)).body).toEqual(
        expect.objectContaining({ id: boss.id, email: BOSS_EMAIL, role: 'admin' }),
      );
      const plain = await registerUser(t);
      expect((await me(t, plain.auth).expect(200)).body.role).toBe('user');
    });

    it('makes an existing account whose address is added to ADMIN_EMAILS an admin from the next start', async () => {
      const late = await registerWith(t, uniqueEmail('late'));
      expect((await me(t, late.auth).expect(200)).body.role).toBe('user');
      // A restart of the same instance keeps its environment: nothing changes.
      await t.restart();
      expect((await me(t, late.auth).expect(200)).body.role).toBe('user');

      // The next start of the service, with the address added (upper case, spaces): the same
      // database, an instance started with the new setting (TestApp.restart() cannot change it).
      await t.stop();
      const [next] = await createTestApps(
        1,
        {
          DATABASE_URL: t.databaseUrl,
          ADMIN_EMAILS: `Admin@Example.COM , BOSS@example.com ,  ${late.email.toUpperCase()}`,
        },
        { freshDatabase: false },
      );
      try {
        // The session of before the start goes on, and its token speaks for an admin now.
        expect((await next.http().get('/users/me').set(late.auth).expect(200)).body.role).toBe('admin');
        await next.http().get('/admin/users').set(late.auth).expect(200);
      } finally {
        await next.close();
        await t.start();
      }
      expect((await me(t, late.auth).expect(200)).body.role).toBe('admin');
      // Back to a plain user for the rest of the file (the setting of `t` does not list it).
      await setRole(t, admin.auth, late.id, { role: 'user' }).expect(200);
    });
  });

  describe('who may use /admin', () => {
    const routes: { name: string; send: (auth: Auth | undefined, id: number) => Promise<Response> }[] = [
      {
        name: 'GET /admin/users',
        send: (auth) => (auth ? t.http().get('/admin/users').set(auth) : t.http().get('/admin/users')),
      },
      {
        name: 'PUT /admin/users/{id}/role',
        send: (auth, id) => {
          const call = t.http().put(`/admin/users/${id}/role`);
          return (auth ? call.set(auth) : call).send({ role: 'admin' });
        },
      },
      {
        name: 'POST /admin/users/{id}/disable',
        send: (auth, id) => {
          const call = t.http().post(`/admin/users/${id}/disable`);
          return auth ? call.set(auth) : call;
        },
      },
      {
        name: 'POST /admin/users/{id}/enable',
        send: (auth, id) => {
          const call = t.http().post(`/admin/users/${id}/enable`);
          return auth ? call.set(auth) : call;
        },
      },
    ];

    it('answers 403 problem+json to a non-admin on every /admin route, and changes nothing', async () => {
      const user = await registerUser(t);
      const target = await registerUser(t);
      const before = (await t.db.query('SELECT id, role, disabled_at FROM users ORDER BY id')).rows;
      for (const route of routes) {
        const response = await route.send(user.auth, target.id);
        expectProblem(response, 403);
        expect({ route: route.name, detail: response.body.detail }).toEqual({
          route: route.name,
          detail: expect.stringMatching(/admin/),
        });
      }
      // Not even about themselves.
      expectProblem(await routes[1].send(user.auth, user.id), 403);
      expect((await t.db.query('SELECT id, role, disabled_at FROM users ORDER BY id')).rows).toEqual(before);
      await me(t, target.auth).expect(200);
    });

    it('answers 401 with WWW-Authenticate: Bearer without a token', async () => {
      for (const route of routes) {
        const response = await route.send(undefined, admin.id);
        expectProblem(response, 401);
        expect({ route: route.name, challenge: response.headers['www-authenticate'] }).toEqual({
          route: route.name,
          challenge: 'Bearer',
        });
      }
    });
  });

  describe('GET /admin/users', () => {
    it('lists AdminUsers, newest first', async () => {
      const named = await t
        .http()
        .post('/users')
        .send({
          email: uniqueEmail('named'),
          username: `named_${randomBytes(4).toString('hex')}`,
          password: TEST_PASSWORD,
        })
        .expect(201);
      const response = await listUsers(t, admin.auth, { limit: 100 }).expect(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      const users = response.body as Record<string, unknown>[];
      expect(users[0]).toEqual(adminUser(named.body, { username: named.body.username }));
      for (const user of users) {
        expect(Object.keys(user).sort()).toEqual(
          ['created_at', 'disabled_at', 'email', 'email_verified', 'id', 'role', 'username'].sort(),
        );
      }
      expect(users.find((user) => user.id === admin.id)).toEqual(adminUser(admin, { role: 'admin' }));
      const ids = users.map((user) => user.id as number);
      expect(ids).toEqual([...ids].sort((a, b) => b - a));
      const created = users.map((user) => Date.parse(user.created_at as string));
      expect(created).toEqual([...created].sort((a, b) => b - a));
      const { rows } = await t.db.query<{ id: number }>('SELECT id FROM users ORDER BY id DESC LIMIT 100');
      expect(ids).toEqual(rows.map((row) => row.id));
    });

    it('pages with Link: a walk with limit=2 collects every user exactly once, in order', async () => {
      for (let index = 0; index < 3; index += 1) {
        await registerUser(t);
      }
      const first = await listUsers(t, admin.auth, { limit: 2 }).expect(200);
      expect(first.body).toHaveLength(2);
      expect(first.headers.link).toMatch(/^<\/admin\/users\?limit=2&cursor=[A-Za-z0-9_-]+>; rel="next"$/);
      const { pages, items } = await walk(t, admin.auth, '/admin/users?limit=2');
      const { rows } = await t.db.query<{ id: number }>('SELECT id FROM users ORDER BY id DESC');
      expect(items.map((user) => user.id)).toEqual(rows.map((row) => row.id));
      expect(pages).toBe(Math.ceil(rows.length / 2));
    });

    it('finds a substring of the e-mail or the username, in any case', async () => {
      const marker = `qz${randomBytes(4).toString('hex')}`;
      const byEmail = await registerUser(t, `${marker}-mail@example.com`);
      const username = `found_${marker}_x`;
      const byUsername = await t
        .http()
        .post('/users')
        .send({ email: uniqueEmail('other'), username, password: TEST_PASSWORD })
        .expect(201);
      await registerUser(t);

      const found = await listUsers(t, admin.auth, { search: marker.toUpperCase() }).expect(200);
      expect(found.body).toEqual([
        adminUser(byUsername.body, { username }),
        adminUser({ id: byEmail.id, email: byEmail.email }),
      ]);
      const byName = await listUsers(t, admin.auth, { search: `FOUND_${marker.toUpperCase()}` }).expect(200);
      expect(byName.body.map((user: { id: number }) => user.id)).toEqual([byUsername.body.id]);
      const byDomainPart = await listUsers(t, admin.auth, { search: `${marker}-MAIL@EXAMPLE` }).expect(200);
      expect(byDomainPart.body.map((user: { id: number }) => user.id)).toEqual([byEmail.id]);
      const nothing = await listUsers(t, admin.auth, { search: `${marker}-nobody` }).expect(200);
      expect(nothing.body).toEqual([]);
    });

    it("takes '%' and '_' literally", async () => {
      const marker = randomBytes(4).toString('hex');
      const percent = await registerUser(t, `p%q${marker}@example.com`);
      await registerUser(t, `pxq${marker}@example.com`);
      const underscore = await registerUser(t, `a_c${marker}@example.com`);
      await registerUser(t, `abc${marker}@example.com`);

      const ids = async (search: string) =>
        (await listUsers(t, admin.auth, { search, limit: 100 }).expect(200)).body.map(
          (user: { id: number }) => user.id,
        );
      expect(await ids(`p%q${marker}`)).toEqual([percent.id]);
      expect(await ids(`A_C${marker}`)).toEqual([underscore.id]);

      // A search of '%' alone finds the addresses with a '%' in them, not everyone; '_' alike.
      const total = Number((await t.db.query<{ count: string }>('SELECT count(*) AS count FROM users')).rows[0].count);
      const withPercent = await ids('%');
      expect(withPercent).toEqual(await idsContaining(t, '%'));
      expect(withPercent).toContain(percent.id);
      expect(withPercent.length).toBeLessThan(total);
      const withUnderscore = await ids('_');
      expect(withUnderscore).toEqual((await idsContaining(t, '_')).slice(0, 100));
      expect(withUnderscore).not.toContain(admin.id);
      expect(await ids('\\')).toEqual(await idsContaining(t, '\\'));
    });

    it('pages a search with Link, keeping the search', async () => {
      const marker = `pg${randomBytes(4).toString('hex')}`;
      const made: number[] = [];
      for (let index = 0; index < 5; index += 1) {
        made.unshift((await registerUser(t, `${marker}-${index}@example.com`)).id);
      }
      const first = await listUsers(t, admin.auth, { limit: 2, search: marker }).expect(200);
      expect(nextLink(first)).toMatch(new RegExp(`[?&]search=${marker}(&|$)`));
      const { items } = await walk(t, admin.auth, `/admin/users?limit=2&search=${marker}`);
      expect(items.map((user) => user.id)).toEqual(made);
    });

    it.each([
      { name: 'a cursor this service did not issue', query: { cursor: 'not-a-cursor' }, field: 'cursor' },
      {
        name: 'a cursor of a negative id',
        query: { cursor: Buffer.from('i-1').toString('base64url') },
        field: 'cursor',
      },
      {
        name: 'a cursor past the largest user id',
        query: { cursor: Buffer.from('i2147483648').toString('base64url') },
        field: 'cursor',
      },
      {
        name: 'a cursor of 19 digits',
        query: { cursor: Buffer.from('i9999999999999999999').toString('base64url') },
        field: 'cursor',
      },
      { name: 'limit=0', query: { limit: 0 }, field: 'limit' },
      { name: 'limit=101', query: { limit: 101 }, field: 'limit' },
      { name: 'limit=abc', query: { limit: 'abc' }, field: 'limit' },
    ])('answers 422 naming the field to $name', async ({ query, field }) => {
      const response = await listUsers(t, admin.auth, query);
      expectProblem(response, 422);
      expect(response.body.errors).toEqual([{ field, message: expect.any(String) }]);
    });
  });

  describe('PUT /admin/users/{id}/role', () => {
    it('promotes a user, who can use /admin at once with the token they have, and demotes them again', async () => {
      const user = await registerUser(t);
      expectProblem(await listUsers(t, user.auth), 403);

      const promoted = await setRole(t, admin.auth, user.id, { role: 'admin' });
      expect(promoted.status).toBe(200);
      expect(promoted.body).toEqual(adminUser(user, { role: 'admin' }));
      expect((await me(t, user.auth).expect(200)).body.role).toBe('admin');
      await listUsers(t, user.auth).expect(200);

      const demoted = await setRole(t, admin.auth, user.id, { role: 'user' });
      expect(demoted.status).toBe(200);
      expect(demoted.body).toEqual(adminUser(user, { role: 'user' }));
      expectProblem(await listUsers(t, user.auth), 403);
      expect((await t.db.query('SELECT role FROM users WHERE id = $1', [user.id])).rows).toEqual([{ role: 'user' }]);
    });

    it('answers the same AdminUser when the role is already the one asked for', async () => {
      const user = await registerUser(t);
      const response = await setRole(t, admin.auth, user.id, { role: 'user' }).expect(200);
      expect(response.body).toEqual(adminUser(user));
    });

    it('answers 404 for an unknown id and 422 for a bad id', async () => {
      const { rows } = await t.db.query<{ max: number }>('SELECT max(id) AS max FROM users');
      const unknown = await setRole(t, admin.auth, rows[0].max + 1000, { role: 'admin' });
      expectProblem(unknown, 404);
      expectProblem(await setRole(t, admin.auth, 0, { role: 'admin' }), 422);
      expectProblem(await t.http().put('/admin/users/abc/role').set(admin.auth).send({ role: 'admin' }), 422);
    });

    it.each([
      { name: 'an unknown role', body: { role: 'superuser' }, field: 'role' },
      { name: 'a role in another case', body: { role: 'ADMIN' }, field: 'role' },
      { name: 'no role', body: {}, field: 'role' },
      { name: 'a role that is not a string', body: { role: 1 }, field: 'role' },
      { name: 'an unknown field', body: { role: 'admin', user_id: 1 }, field: 'user_id' },
    ])('answers 422 naming the field to $name, and changes nothing', async ({ body, field }) => {
      const user = await registerUser(t);
      const response = await setRole(t, admin.auth, user.id, body);
      expectProblem(response, 422);
      expect(response.body.errors).toEqual([{ field, message: expect.any(String) }]);
      expect((await t.db.query('SELECT role FROM users WHERE id = $1', [user.id])).rows).toEqual([{ role: 'user' }]);
    });
  });

  describe('POST /admin/users/{id}/disable and /enable', () => {
    it('disables an account: its tokens give 401 at once, its right password 403, a wrong one 401', async () => {
      const user = await registerUser(t);
      const other = await logIn(t, user.email);
      await me(t, user.auth).expect(200);

      const disabled = await disable(t, admin.auth, user.id);
      expect(disabled.status).toBe(200);
      expect(disabled.body).toEqual(adminUser(user, { disabled_at: expect.stringMatching(ISO_TIMESTAMP) }));

      for (const session of [user, other]) {
        const access = await me(t, session.auth);
        expectProblem(access, 401);
        expect(access.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
        expectProblem(await refresh(t, session.refreshToken), 401);
      }
      const rightPassword = await login(t, user.email);
      expectProblem(rightPassword, 403);
      expect(rightPassword.body.detail).toMatch(/disabled/);
      expect(rightPassword.body).not.toHaveProperty('access_token');
      const wrongPassword = await login(t, user.email, WRONG_PASSWORD);
      expectProblem(wrongPassword, 401);
      expect(wrongPassword.body.detail).toBe('Invalid credentials');

      const listed = await listUsers(t, admin.auth, { search: user.email }).expect(200);
      expect(listed.body).toEqual([disabled.body]);
      const { rows } = await t.db.query<{ live: string }>(
        'SELECT count(*) AS live FROM sessions WHERE user_id = $1 AND revoked_at IS NULL',
        [user.id],
      );
      expect(rows[0].live).toBe('0');
    });

    it('answers 409 to an admin disabling themselves, and 404 for an unknown id', async () => {
      const response = await disable(t, admin.auth, admin.id);
      expectProblem(response, 409);
      await me(t, admin.auth).expect(200);
      const { rows } = await t.db.query<{ max: number }>('SELECT max(id) AS max FROM users');
      expectProblem(await disable(t, admin.auth, rows[0].max + 1000), 404);
      expectProblem(await enable(t, admin.auth, rows[0].max + 1000), 404);
    });

    it('enables the account again: disabled_at null, logins work, the old sessions stay ended', async () => {
      const user = await registerUser(t);
      await disable(t, admin.auth, user.id).expect(200);
      const enabled = await enable(t, admin.auth, user.id);
      expect(enabled.status).toBe(200);
      expect(enabled.body).toEqual(adminUser(user, { disabled_at: null }));

      const fresh = await logIn(t, user.email);
      await me(t, fresh.auth).expect(200);
      expectProblem(await me(t, user.auth), 401);
      expectProblem(await refresh(t, user.refreshToken), 401);
      // Enabling an enabled account changes nothing.
      expect((await enable(t, admin.auth, user.id).expect(200)).body).toEqual(enabled.body);
    });

    it('lets another admin disable an admin', async () => {
      const second = await registerUser(t);
      await setRole(t, admin.auth, second.id, { role: 'admin' }).expect(200);
      const disabled = await disable(t, admin.auth, second.id).expect(200);
      expect(disabled.body).toEqual(adminUser(second, { role: 'admin', disabled_at: expect.any(String) }));
      expectProblem(await listUsers(t, second.auth), 401);
      await setRole(t, admin.auth, second.id, { role: 'user' }).expect(200);
    });
  });

  describe('posts of other users', () => {
    const newPost = (auth: Auth, published: boolean) =>
      t
        .http()
        .post('/posts')
        .set(auth)
        .send({ title: 'A post', content: 'Some content', published })
        .expect(201)
        .then((response) => response.body.id as number);

    it("lets an admin delete another user's published post (204), which is gone afterwards", async () => {
      const author = await registerUser(t);
      const id = await newPost(author.auth, true);
      await t.http().delete(`/posts/${id}`).set(admin.auth).expect(204);
      expectProblem(await t.http().get(`/posts/${id}`).set(author.auth), 404);
      expectProblem(await t.http().get(`/posts/${id}`).set(admin.auth), 404);
    });

    it("does not let an admin replace or change another user's post (403), and changes nothing", async () => {
      const author = await registerUser(t);
      const id = await newPost(author.auth, true);
      const before = (await t.http().get(`/posts/${id}`).set(author.auth).expect(200)).body;
      expectProblem(
        await t.http().put(`/posts/${id}`).set(admin.auth).send({ title: 'Mine', content: 'Now', published: true }),
        403,
      );
      expectProblem(await t.http().patch(`/posts/${id}`).set(admin.auth).send({ title: 'Mine' }), 403);
      expect((await t.http().get(`/posts/${id}`).set(author.auth).expect(200)).body).toEqual(before);
    });

    it("keeps another user's draft invisible to an admin: GET 404, DELETE 404", async () => {
      const author = await registerUser(t);
      const id = await newPost(author.auth, false);
      expectProblem(await t.http().get(`/posts/${id}`).set(admin.auth), 404);
      expectProblem(await t.http().delete(`/posts/${id}`).set(admin.auth), 404);
      await t.http().get(`/posts/${id}`).set(author.auth).expect(200);
    });

    it("answers 403 to a non-admin deleting another user's post", async () => {
      const author = await registerUser(t);
      const other = await registerUser(t);
      const id = await newPost(author.auth, true);
      expectProblem(await t.http().delete(`/posts/${id}`).set(other.auth), 403);
      await t.http().get(`/posts/${id}`).set(author.auth).expect(200);
    });
  });
});

describe('The last admin', () => {
  let t: TestApp;
  let admin: TestUser;
  let boss: TestUser;

  beforeAll(async () => {
    t = await createTestApp({ ADMIN_EMAILS: `${ADMIN_EMAIL},${BOSS_EMAIL}` });
    admin = await registerWith(t, ADMIN_EMAIL);
    boss = await registerWith(t, BOSS_EMAIL);
  });

  afterAll(async () => {
    await t.close();
  });

  it('cannot be demoted (409), by themselves or anyone', async () => {
    await setRole(t, admin.auth, boss.id, { role: 'user' }).expect(200);
    expect(await adminCount(t)).toBe(1);
    const response = await setRole(t, admin.auth, admin.id, { role: 'user' });
    expectProblem(response, 409);
    expect(response.body.detail).toMatch(/last admin/);
    expect((await me(t, admin.auth).expect(200)).body.role).toBe('admin');
    // An admin may demote themselves while another admin is left.
    await setRole(t, admin.auth, boss.id, { role: 'admin' }).expect(200);
    const self = await setRole(t, boss.auth, boss.id, { role: 'user' });
    expect(self.status).toBe(200);
    expect(self.body.role).toBe('user');
    expectProblem(await listUsers(t, boss.auth), 403);
    await setRole(t, admin.auth, boss.id, { role: 'admin' }).expect(200);
  });

  it('cannot be demoted while the only other admin is disabled (409): someone must be able to log in as admin', async () => {
    await t.http().post(`/admin/users/${boss.id}/disable`).set(admin.auth).expect(200);
    try {
      const response = await setRole(t, admin.auth, admin.id, { role: 'user' });
      expectProblem(response, 409);
      expect((await me(t, admin.auth).expect(200)).body.role).toBe('admin');
    } finally {
      await t.http().post(`/admin/users/${boss.id}/enable`).set(admin.auth).expect(200);
    }
    boss = { ...boss, ...(await logIn(t, BOSS_EMAIL)) };
  });

  it('is never lost to two admins demoting each other at once: never both succeed', async () => {
    const rounds: { statuses: number[]; admins: number }[] = [];
    for (let round = 0; round < 10; round += 1) {
      const [first, second] = await Promise.all([
        setRole(t, admin.auth, boss.id, { role: 'user' }),
        setRole(t, boss.auth, admin.id, { role: 'user' }),
      ]);
      const statuses = [first.status, second.status];
      const admins = await adminCount(t);
      rounds.push({ statuses, admins });
      if (admins === 1) {
        // Put the demoted one back, through the admin that is left.
        const left = (await me(t, admin.auth).expect(200)).body.role === 'admin' ? admin : boss;
        const demoted = left === admin ? boss : admin;
        await setRole(t, left.auth, demoted.id, { role: 'admin' }).expect(200);
      } else {
        // Not what should happen (the assertions below say so): start the next round as this one started.
        await t.db.query(`UPDATE users SET role = 'admin' WHERE id = ANY($1)`, [[admin.id, boss.id]]);
      }
    }
    for (const { statuses, admins } of rounds) {
      expect({ statuses, admins }).toEqual({ statuses, admins: 1 });
      expect(statuses.filter((status) => status === 200)).toHaveLength(1);
      expect(statuses.filter((status) => status !== 200).every((status) => status === 409 || status === 403)).toBe(
        true,
      );
    }
    const listed = await listUsers(t, admin.auth, { limit: 100 }).expect(200);
    expect(listed.body.filter((user: { role: string }) => user.role === 'admin')).toHaveLength(2);
  });
});

describe('Disabling an account with two instances on one database', () => {
  let instances: TestApp[];

  beforeAll(async () => {
    instances = await createTestApps(2, { ADMIN_EMAILS: ADMIN_EMAIL });
  });

  afterAll(async () => {
    await Promise.all(instances.map((instance) => instance.close()));
  });

  // The other instance's session cache hears of it through PostgreSQL's NOTIFY: within 100 ms
  // there, as for a logout (at once on the instance that disabled it: the tests above).
  it('makes the tokens fail on the other instance too, within 100 ms', async () => {
    const [a, b] = instances;
    const admin = await registerWith(a, ADMIN_EMAIL);
    const user = await registerUser(a);
    const onB = await logIn(b, user.email);
    await me(b, user.auth).expect(200);
    await me(b, onB.auth).expect(200);

    await disable(a, admin.auth, user.id).expect(200);
    for (const session of [user, onB]) {
      expectProblem(await answerWithin(() => me(b, session.auth)), 401);
      expectProblem(await refresh(b, session.refreshToken), 401);
    }
    expectProblem(await login(b, user.email), 403);
  });
});

describe('POST /login racing POST /admin/users/{id}/disable', () => {
  let t: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    // A real bcrypt cost keeps each login's password check in flight while the account is disabled.
    t = await createTestApp({ ADMIN_EMAILS: ADMIN_EMAIL, BCRYPT_ROUNDS: '10', LOGIN_MAX_FAILURES: '1000' });
    admin = await registerWith(t, ADMIN_EMAIL);
  });

  afterAll(async () => {
    await t.close();
  });

  /** The tokens that still work (empty when every one is dead). */
  async function stillWorking(issued: TestSession[]): Promise<string[]> {
    const working: string[] = [];
    for (const [index, session] of issued.entries()) {
      const access = (await me(t, session.auth)).status;
      if (access !== 401) {
        working.push(`access token ${index}: ${access}`);
      }
      const renewed = (await refresh(t, session.refreshToken)).status;
      if (renewed !== 401) {
        working.push(`refresh token ${index}: ${renewed}`);
      }
    }
    return working;
  }

  it('leaves no session of the account working, whenever the logins ran', async () => {
    const rounds: Record<string, unknown>[] = [];
    for (let round = 1; round <= 3; round += 1) {
      const user = await registerUser(t);
      const logins = Array.from({ length: 8 }, (_, index) => after(index * 40, () => login(t, user.email)));
      const disabling = after(120, () => disable(t, admin.auth, user.id));
      const answers = await Promise.all(logins);
      const disabled = await disabling;
      const statuses = answers.map((answer) => answer.status);
      const issued: TestSession[] = [
        user,
        ...answers
          .filter((answer) => answer.status === 200)
          .map((answer) => ({
            token: answer.body.access_token as string,
            refreshToken: answer.body.refresh_token as string,
            sessionId: 0,
            auth: { Authorization: `Bearer ${answer.body.access_token as string}` },
          })),
      ];
      const { rows } = await t.db.query<{ live: string }>(
        'SELECT count(*) AS live FROM sessions WHERE user_id = $1 AND revoked_at IS NULL',
        [user.id],
      );
      rounds.push({
        round,
        loginStatuses: statuses,
        unexpectedStatuses: statuses.filter((status) => ![200, 401, 403].includes(status)),
        disableStatus: disabled.status,
        workingTokens: await stillWorking(issued),
        liveSessions: rows[0].live,
        newLogin: (await login(t, user.email)).status,
      });
    }
    expect(rounds).toEqual(
      rounds.map((round) => ({
        ...round,
        unexpectedStatuses: [],
        disableStatus: 200,
        workingTokens: [],
        liveSessions: '0',
        newLogin: 403,
      })),
    );
  });
});
