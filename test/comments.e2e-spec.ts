import type { Response } from 'supertest';
import {
  createTestApp,
  expectProblem,
  registerUser,
  snapshotTables,
  TestApp,
  TestUser,
  TEST_PASSWORD,
} from './support/test-app';

/**
 * Comments (API.md, "Posts: finding, commenting, retrying safely", Comments), end to end:
 * the shapes, paging, visibility, who may change and delete, what goes with a post or an
 * account, validation, and races with deletions.
 */

const ISO_TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const ADMIN_EMAIL = 'comments-admin@example.com';

type Auth = { Authorization: string };

describe('Comments', () => {
  let t: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    t = await createTestApp({ ADMIN_EMAILS: ADMIN_EMAIL });
    admin = await registerUser(t, ADMIN_EMAIL);
  });

  afterAll(async () => {
    await t.close();
  });

  async function writePost(auth: Auth, published = true): Promise<number> {
    const response = await t.http().post('/posts').set(auth).send({ title: 'Commented', content: 'Text', published });
    expect(response.status).toBe(201);
    return response.body.id as number;
  }

  const comment = (auth: Auth, postId: number | string, body: object) =>
    t.http().post(`/posts/${postId}/comments`).set(auth).send(body);

  async function writeComment(auth: Auth, postId: number, content = 'A comment'): Promise<Record<string, unknown>> {
    const response = await comment(auth, postId, { content });
    expect(response.status).toBe(201);
    return response.body as Record<string, unknown>;
  }

  const list = (auth: Auth, postId: number | string, query: Record<string, string | number | undefined> = {}) =>
    t.http().get(`/posts/${postId}/comments`).query(query).set(auth);

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

  /** The ids of a post's comments, straight from the table, in id order. */
  async function commentIdsInTable(postId: number): Promise<number[]> {
    const { rows } = await t.db.query<{ id: number }>('SELECT id FROM comments WHERE post_id = $1 ORDER BY id', [
      postId,
    ]);
    return rows.map((row) => row.id);
  }

  function userOf(user: TestUser) {
    return { id: user.id, username: null, email: user.email, created_at: expect.stringMatching(ISO_TIMESTAMP) };
  }

  it('answers 201 with the Comment (author as a User) and a Location that GET /comments/{id} answers', async () => {
    const owner = await registerUser(t);
    const author = await registerUser(t);
    const postId = await writePost(owner.auth);

    const created = await comment(author.auth, postId, { content: 'Nice post!' });

    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.any(Number),
      post_id: postId,
      content: 'Nice post!',
      created_at: expect.stringMatching(ISO_TIMESTAMP),
      updated_at: expect.stringMatching(ISO_TIMESTAMP),
      author: userOf(author),
    });
    expect(created.body.updated_at).toBe(created.body.created_at);
    expect(created.headers.location).toBe(`/comments/${created.body.id as number}`);
    const fetched = await t.http().get(created.headers.location).set(owner.auth).expect(200);
    expect(fetched.body).toEqual(created.body);
  });

  it('stores the content trimmed, and accepts 2,000 characters (astral ones count as one) inside white space', async () => {
    const user = await registerUser(t);
    const postId = await writePost(user.auth);
    const longest = '😀'.repeat(2000);

    const trimmed = await writeComment(user.auth, postId, '  \n hello \t ');
    const long = await writeComment(user.auth, postId, `   ${longest}   `);

    expect(trimmed.content).toBe('hello');
    expect(long.content).toBe(longest);
  });

  it('lists oldest first, 20 by default, and the Link walk with limit=2 collects every comment exactly once', async () => {
    const user = await registerUser(t);
    const postId = await writePost(user.auth);
    const written: number[] = [];
    for (let index = 0; index < 23; index += 1) {
      written.push((await writeComment(user.auth, postId, `comment ${index}`)).id as number);
    }

    const first = await list(user.auth, postId).expect(200);
    expect((first.body as { id: number }[]).map((each) => each.id)).toEqual(written.slice(0, 20));
    expect((first.body as { content: string }[])[0].content).toBe('comment 0');

    const walked: number[] = [];
    let response = await list(user.auth, postId, { limit: 2 }).expect(200);
    for (;;) {
      expect(response.body.length).toBeLessThanOrEqual(2);
      walked.push(...(response.body as { id: number }[]).map((each) => each.id));
      const next = nextLink(response);
      if (!next) {
        break;
      }
      expect(next).toMatch(new RegExp(`^/posts/${postId}/comments\\?limit=2&cursor=`));
      response = await t.http().get(next).set(user.auth).expect(200);
    }
    expect(walked).toEqual(written);
    // 23 comments: 11 full pages and a last one of 1, never an empty page at the end.
    expect(response.body).toHaveLength(1);
  });

  it('walks to the end while comments are added: new ones come at the end, none repeated or skipped', async () => {
    const user = await registerUser(t);
    const other = await registerUser(t);
    const postId = await writePost(user.auth);
    for (let index = 0; index < 5; index += 1) {
      await writeComment(user.auth, postId, `before ${index}`);
    }

    const walked: number[] = [];
    let response = await list(user.auth, postId, { limit: 2 }).expect(200);
    let added = 0;
    for (;;) {
      walked.push(...(response.body as { id: number }[]).map((each) => each.id));
      const next = nextLink(response);
      if (!next) {
        break;
      }
      // A comment between two pages: the walk must meet it at its end.
      await writeComment(added % 2 === 0 ? other.auth : user.auth, postId, `during ${added}`);
      added += 1;
      response = await t.http().get(next).set(user.auth).expect(200);
    }

    // Pages [1, 2], [3, 4], [5, 6], [7, 8]: one comment added after each of the first three.
    expect(added).toBe(3);
    const all = await commentIdsInTable(postId);
    expect(all).toHaveLength(8);
    expect(walked).toEqual(all);
  });

  it.each([
    { name: 'limit=0', query: { limit: 0 }, field: 'limit' },
    { name: 'limit=101', query: { limit: 101 }, field: 'limit' },
    { name: 'limit=abc', query: { limit: 'abc' }, field: 'limit' },
    { name: 'a cursor it did not issue', query: { cursor: 'bm90LWEtY3Vyc29y' }, field: 'cursor' },
    { name: 'an unknown parameter', query: { sort: 'top' }, field: 'sort' },
  ])('answers 422 naming the field to $name', async ({ query, field }) => {
    const user = await registerUser(t);
    const postId = await writePost(user.auth);

    const response = await list(user.auth, postId, query);

    expectProblem(response, 422);
    expect(response.body.errors).toEqual([{ field, message: expect.any(String) }]);
  });

  it('answers 404 for the comments of a missing post (list and create), and writes nothing', async () => {
    const user = await registerUser(t);
    const before = await snapshotTables(t.db);

    expectProblem(await list(user.auth, 2_000_000_000), 404);
    expectProblem(await comment(user.auth, 2_000_000_000, { content: 'Anyone there?' }), 404);
    expect(await snapshotTables(t.db)).toEqual(before);
  });

  it("answers 404 for every route on another user's draft's comments, while the draft's owner comments on it", async () => {
    const owner = await registerUser(t);
    const stranger = await registerUser(t);
    const draftId = await writePost(owner.auth, false);

    const own = await writeComment(owner.auth, draftId, 'A note to myself');
    const listed = await list(owner.auth, draftId).expect(200);
    expect(listed.body).toEqual([own]);
    await t
      .http()
      .get(`/comments/${own.id as number}`)
      .set(owner.auth)
      .expect(200);

    const before = await snapshotTables(t.db);
    for (const auth of [stranger.auth, admin.auth]) {
      expectProblem(await list(auth, draftId), 404);
      expectProblem(await comment(auth, draftId, { content: 'Peeking' }), 404);
      expectProblem(
        await t
          .http()
          .get(`/comments/${own.id as number}`)
          .set(auth),
        404,
      );
      expectProblem(
        await t
          .http()
          .patch(`/comments/${own.id as number}`)
          .set(auth)
          .send({ content: 'Changed' }),
        404,
      );
      expectProblem(
        await t
          .http()
          .delete(`/comments/${own.id as number}`)
          .set(auth),
        404,
      );
    }
    expect(await snapshotTables(t.db)).toEqual(before);
  });

  it('answers 404 for a missing comment on every comment route', async () => {
    const user = await registerUser(t);

    expectProblem(await t.http().get('/comments/2000000000').set(user.auth), 404);
    expectProblem(await t.http().patch('/comments/2000000000').set(user.auth).send({ content: 'x' }), 404);
    expectProblem(await t.http().delete('/comments/2000000000').set(user.auth), 404);
  });

  it('lets the author change the text (200, updated_at moves, created_at stays)', async () => {
    const author = await registerUser(t);
    const postId = await writePost(author.auth);
    const written = await writeComment(author.auth, postId, 'First thought');

    const changed = await t
      .http()
      .patch(`/comments/${written.id as number}`)
      .set(author.auth)
      .send({ content: '  Second thought  ' });

    expect(changed.status).toBe(200);
    expect(changed.body).toEqual({ ...written, content: 'Second thought', updated_at: expect.any(String) });
    expect(Date.parse(changed.body.updated_at)).toBeGreaterThan(Date.parse(written.created_at as string));
    const fetched = await t
      .http()
      .get(`/comments/${written.id as number}`)
      .set(author.auth)
      .expect(200);
    expect(fetched.body).toEqual(changed.body);
  });

  it("answers 403 to a PATCH by anyone but the author (the post's owner and an admin too), and changes nothing", async () => {
    const owner = await registerUser(t);
    const author = await registerUser(t);
    const stranger = await registerUser(t);
    const postId = await writePost(owner.auth);
    const written = await writeComment(author.auth, postId, 'Mine');
    const before = await snapshotTables(t.db);

    for (const auth of [owner.auth, stranger.auth, admin.auth]) {
      const response = await t
        .http()
        .patch(`/comments/${written.id as number}`)
        .set(auth)
        .send({ content: 'Not yours' });
      expectProblem(response, 403);
    }
    expect(await snapshotTables(t.db)).toEqual(before);
  });

  it("deletes on the author's, the post owner's and an admin's request (204), and answers 403 to anyone else", async () => {
    const owner = await registerUser(t);
    const author = await registerUser(t);
    const stranger = await registerUser(t);
    const postId = await writePost(owner.auth);
    const byAuthor = await writeComment(author.auth, postId, 'one');
    const byOwner = await writeComment(author.auth, postId, 'two');
    const byAdmin = await writeComment(author.auth, postId, 'three');
    const kept = await writeComment(author.auth, postId, 'four');
    const before = await snapshotTables(t.db);

    expectProblem(
      await t
        .http()
        .delete(`/comments/${kept.id as number}`)
        .set(stranger.auth),
      403,
    );
    expect(await snapshotTables(t.db)).toEqual(before);

    for (const [auth, gone] of [
      [author.auth, byAuthor],
      [owner.auth, byOwner],
      [admin.auth, byAdmin],
    ] as const) {
      await t
        .http()
        .delete(`/comments/${gone.id as number}`)
        .set(auth)
        .expect(204);
      expectProblem(
        await t
          .http()
          .get(`/comments/${gone.id as number}`)
          .set(author.auth),
        404,
      );
    }
    expect(await commentIdsInTable(postId)).toEqual([kept.id]);
  });

  it("records comment_removed_by_admin in the author's activity when an admin deletes the comment, and nothing else does", async () => {
    const owner = await registerUser(t);
    const author = await registerUser(t);
    const postId = await writePost(owner.auth);
    const removed = await writeComment(author.auth, postId, 'Out of line');
    const byOwner = await writeComment(author.auth, postId, 'Off topic');
    const own = await writeComment(author.auth, postId, 'Regret');
    const activity = async () => (await t.http().get('/users/me/activity').set(author.auth).expect(200)).body;
    const mark = (await activity())[0].id as number;
    const adminMark = (await t.http().get('/users/me/activity').set(admin.auth).expect(200)).body[0].id as number;

    await t
      .http()
      .delete(`/comments/${byOwner.id as number}`)
      .set(owner.auth)
      .expect(204);
    await t
      .http()
      .delete(`/comments/${own.id as number}`)
      .set(author.auth)
      .expect(204);
    await t
      .http()
      .delete(`/comments/${removed.id as number}`)
      .set(admin.auth)
      .expect(204);

    const events = (await activity()).filter((event: { id: number }) => event.id > mark);
    expect(events).toEqual([
      {
        id: expect.any(Number),
        type: 'comment_removed_by_admin',
        created_at: expect.stringMatching(ISO_TIMESTAMP),
        ip: null,
        user_agent: null,
        session_id: null,
      },
    ]);
    const adminEvents = (await t.http().get('/users/me/activity').set(admin.auth).expect(200)).body.filter(
      (event: { id: number }) => event.id > adminMark,
    );
    expect(adminEvents).toEqual([]);
  });

  it("does not record an event when an admin deletes a comment on the admin's own post", async () => {
    const author = await registerUser(t);
    const postId = await writePost(admin.auth);
    const written = await writeComment(author.auth, postId, 'On the admin post');
    const before = (await t.http().get('/users/me/activity').set(author.auth).expect(200)).body[0].id as number;

    await t
      .http()
      .delete(`/comments/${written.id as number}`)
      .set(admin.auth)
      .expect(204);

    const after = (await t.http().get('/users/me/activity').set(author.auth).expect(200)).body[0].id as number;
    expect(after).toBe(before);
  });

  it('deletes the comments with their post', async () => {
    const owner = await registerUser(t);
    const author = await registerUser(t);
    const postId = await writePost(owner.auth);
    const written = await writeComment(author.auth, postId);
    await writeComment(owner.auth, postId);

    await t.http().delete(`/posts/${postId}`).set(owner.auth).expect(204);

    expectProblem(
      await t
        .http()
        .get(`/comments/${written.id as number}`)
        .set(author.auth),
      404,
    );
    expect(await commentIdsInTable(postId)).toEqual([]);
  });

  it("deletes an account's comments, and the comments on its posts, with the account", async () => {
    const leaving = await registerUser(t);
    const staying = await registerUser(t);
    const stayingPost = await writePost(staying.auth);
    const leavingPost = await writePost(leaving.auth);
    const theirs = await writeComment(leaving.auth, stayingPost, 'Bye');
    const kept = await writeComment(staying.auth, stayingPost, 'Stay');
    const onTheirPost = await writeComment(staying.auth, leavingPost, 'On a post that goes');

    await t.http().delete('/users/me').set(leaving.auth).send({ password: TEST_PASSWORD }).expect(204);

    expectProblem(
      await t
        .http()
        .get(`/comments/${theirs.id as number}`)
        .set(staying.auth),
      404,
    );
    expectProblem(
      await t
        .http()
        .get(`/comments/${onTheirPost.id as number}`)
        .set(staying.auth),
      404,
    );
    expect(await commentIdsInTable(stayingPost)).toEqual([kept.id]);
    const { rows } = await t.db.query('SELECT id FROM comments WHERE author_id = $1 OR post_id = $2', [
      leaving.id,
      leavingPost,
    ]);
    expect(rows).toEqual([]);
  });

  it.each([
    { name: 'an empty content', body: { content: '' } },
    { name: 'a content of only white space', body: { content: ' \n\t ' } },
    { name: 'a content of 2,001 characters', body: { content: 'x'.repeat(2001) } },
    { name: 'a content that is not a string', body: { content: 42 } },
    { name: 'no content', body: {} },
    { name: 'a null content', body: { content: null } },
  ])('answers 422 naming content to $name (POST and PATCH), and writes nothing', async ({ body }) => {
    const user = await registerUser(t);
    const postId = await writePost(user.auth);
    const written = await writeComment(user.auth, postId, 'Untouched');
    const before = await snapshotTables(t.db);

    const created = await comment(user.auth, postId, body);
    const changed = await t
      .http()
      .patch(`/comments/${written.id as number}`)
      .set(user.auth)
      .send(body);

    for (const response of [created, changed]) {
      expectProblem(response, 422);
      expect(response.body.errors).toEqual([{ field: 'content', message: expect.any(String) }]);
    }
    expect(await snapshotTables(t.db)).toEqual(before);
  });

  it('answers 422 naming an unknown field (POST and PATCH), and writes nothing', async () => {
    const user = await registerUser(t);
    const postId = await writePost(user.auth);
    const written = await writeComment(user.auth, postId, 'Untouched');
    const before = await snapshotTables(t.db);

    const created = await comment(user.auth, postId, { content: 'Hi', author_id: 1 });
    const changed = await t
      .http()
      .patch(`/comments/${written.id as number}`)
      .set(user.auth)
      .send({ content: 'Hi', post_id: 1 });

    expectProblem(created, 422);
    expect(created.body.errors).toEqual([{ field: 'author_id', message: expect.any(String) }]);
    expectProblem(changed, 422);
    expect(changed.body.errors).toEqual([{ field: 'post_id', message: expect.any(String) }]);
    expect(await snapshotTables(t.db)).toEqual(before);
  });

  it.each(['0', '-1', 'abc', '1.5', '2147483648', '1e3'])(
    'answers 422 naming id to the id %s on every route',
    async (id) => {
      const user = await registerUser(t);
      const responses = [
        await list(user.auth, id),
        await comment(user.auth, id, { content: 'x' }),
        await t.http().get(`/comments/${id}`).set(user.auth),
        await t.http().patch(`/comments/${id}`).set(user.auth).send({ content: 'x' }),
        await t.http().delete(`/comments/${id}`).set(user.auth),
      ];
      for (const response of responses) {
        expectProblem(response, 422);
        expect(response.body.errors).toEqual([{ field: 'id', message: expect.any(String) }]);
      }
    },
  );

  it('answers 401 without a token on every route', async () => {
    const user = await registerUser(t);
    const postId = await writePost(user.auth);
    const written = await writeComment(user.auth, postId);
    const before = await snapshotTables(t.db);

    const responses = [
      await t.http().get(`/posts/${postId}/comments`),
      await t.http().post(`/posts/${postId}/comments`).send({ content: 'x' }),
      await t.http().get(`/comments/${written.id as number}`),
      await t
        .http()
        .patch(`/comments/${written.id as number}`)
        .send({ content: 'x' }),
      await t.http().delete(`/comments/${written.id as number}`),
    ];
    for (const response of responses) {
      expectProblem(response, 401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
    }
    expect(await snapshotTables(t.db)).toEqual(before);
  });

  it('gives 20 parallel comments on one post 20 comments', async () => {
    const owner = await registerUser(t);
    const postId = await writePost(owner.auth);
    const users = await Promise.all(Array.from({ length: 4 }, () => registerUser(t)));

    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        comment(users[index % users.length].auth, postId, { content: `parallel ${index}` }),
      ),
    );

    expect(responses.map((response) => response.status)).toEqual(Array(20).fill(201));
    const ids = responses.map((response) => response.body.id as number);
    expect(new Set(ids).size).toBe(20);
    expect(await commentIdsInTable(postId)).toEqual([...ids].sort((a, b) => a - b));
    const listed = await list(owner.auth, postId, { limit: 100 }).expect(200);
    expect(listed.body).toHaveLength(20);
  });

  it("answers 201 or 404, never 500, to comments racing the post's deletion, and leaves no orphan comment", async () => {
    const owner = await registerUser(t);
    const author = await registerUser(t);
    const statuses = new Set<number>();
    for (let round = 0; round < 6; round += 1) {
      const postId = await writePost(owner.auth);
      const comments = Array.from({ length: 6 }, (_, index) =>
        comment(author.auth, postId, { content: `race ${round}.${index}` }).then((response) => response),
      );
      const deletion = t
        .http()
        .delete(`/posts/${postId}`)
        .set(owner.auth)
        .then((response) => response);
      const [deleted, ...answers] = await Promise.all([deletion, ...comments]);

      expect(deleted.status).toBe(204);
      for (const answer of answers) {
        expect([201, 404]).toContain(answer.status);
        statuses.add(answer.status);
        if (answer.status === 404) {
          expectProblem(answer, 404);
        }
      }
      expect(await commentIdsInTable(postId)).toEqual([]);
    }
    const { rows } = await t.db.query(
      'SELECT id FROM comments comment WHERE NOT EXISTS (SELECT 1 FROM posts post WHERE post.id = comment.post_id)',
    );
    expect(rows).toEqual([]);
    expect(statuses.size).toBeGreaterThan(0);
  });

  it("answers 401 or 404, never 500, to comments racing the author's account deletion, and leaves no orphan", async () => {
    const owner = await registerUser(t);
    const postId = await writePost(owner.auth);
    for (let round = 0; round < 4; round += 1) {
      const author = await registerUser(t);
      const comments = Array.from({ length: 5 }, (_, index) =>
        comment(author.auth, postId, { content: `leaving ${round}.${index}` }).then((response) => response),
      );
      const deletion = t
        .http()
        .delete('/users/me')
        .set(author.auth)
        .send({ password: TEST_PASSWORD })
        .then((response) => response);
      const [deleted, ...answers] = await Promise.all([deletion, ...comments]);

      expect(deleted.status).toBe(204);
      for (const answer of answers) {
        expect([201, 401]).toContain(answer.status);
      }
      const { rows } = await t.db.query('SELECT id FROM comments WHERE author_id = $1', [author.id]);
      expect(rows).toEqual([]);
    }
  });
});

describe('Comments with REQUIRE_VERIFIED_EMAIL=true', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ REQUIRE_VERIFIED_EMAIL: 'true' });
  });

  afterAll(async () => {
    await t.close();
  });

  it('answers 403 to POST and PATCH of an unverified user, and lets them read; a verified user comments', async () => {
    const unverified = await registerUser(t);
    const verified = await registerUser(t);
    await t.db.query('UPDATE users SET email_verified_at = now() WHERE id = $1', [verified.id]);
    // Posts of both written straight into the table: neither could write one through the API before.
    const {
      rows: [post],
    } = await t.db.query<{ id: number }>(
      `INSERT INTO posts (title, content, published, owner_id) VALUES ('Seeded', 'Text', true, $1) RETURNING id`,
      [verified.id],
    );
    const {
      rows: [seeded],
    } = await t.db.query<{ id: number }>(
      `INSERT INTO comments (post_id, author_id, content) VALUES ($1, $2, 'Seeded') RETURNING id`,
      [post.id, unverified.id],
    );
    const before = await snapshotTables(t.db);

    const created = await t.http().post(`/posts/${post.id}/comments`).set(unverified.auth).send({ content: 'Hi' });
    const changed = await t.http().patch(`/comments/${seeded.id}`).set(unverified.auth).send({ content: 'Hi' });

    for (const response of [created, changed]) {
      expectProblem(response, 403);
      expect(response.body.detail).toMatch(/verify/i);
    }
    expect(await snapshotTables(t.db)).toEqual(before);
    await t.http().get(`/posts/${post.id}/comments`).set(unverified.auth).expect(200);
    await t.http().get(`/comments/${seeded.id}`).set(unverified.auth).expect(200);
    await t.http().post(`/posts/${post.id}/comments`).set(verified.auth).send({ content: 'Hi' }).expect(201);
  });
});
