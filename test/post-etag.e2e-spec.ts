import type request from 'supertest';
import { createTestApp, expectProblem, registerUser, snapshotTables, TestApp, TestUser } from './support/test-app';

const STRONG_ETAG = /^"[1-9][0-9]*"$/;

/**
 * Optimistic concurrency on posts (API.md, "Posts: finding, commenting, retrying safely"):
 * the strong ETag of a post, `updated_at`, and If-Match on PUT, PATCH and DELETE.
 */
describe('Post ETags and If-Match', () => {
  let t: TestApp;
  let author: TestUser;
  let reader: TestUser;

  beforeAll(async () => {
    t = await createTestApp();
    author = await registerUser(t);
    reader = await registerUser(t);
  });

  afterAll(async () => {
    await t.close();
  });

  async function newPost(title = 'versioned'): Promise<{ id: number; etag: string; created_at: string }> {
    const response = await t.http().post('/posts').set(author.auth).send({ title, content: 'c', published: true });
    expect(response.status).toBe(201);
    return {
      id: response.body.id as number,
      etag: response.headers.etag,
      created_at: response.body.created_at,
    };
  }

  async function read(id: number, user: TestUser = reader): Promise<request.Response> {
    const response = await t.http().get(`/posts/${id}`).set(user.auth);
    expect(response.status).toBe(200);
    return response;
  }

  async function etagOf(id: number): Promise<string> {
    return (await read(id)).headers.etag;
  }

  async function row(id: number): Promise<Record<string, unknown> | undefined> {
    return (await t.db.query('SELECT * FROM posts WHERE id = $1', [id])).rows[0];
  }

  /** Lets the clock move, so that a change of updated_at shows in milliseconds. */
  const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

  describe('the ETag header', () => {
    it('comes with POST, GET, PUT and PATCH: a strong ETag, the same for the same version', async () => {
      const created = await newPost();
      expect(created.etag).toMatch(STRONG_ETAG);

      const got = await read(created.id);
      expect(got.headers.etag).toBe(created.etag);
      // The author sees the same version as anyone else.
      expect((await read(created.id, author)).headers.etag).toBe(created.etag);

      const put = await t
        .http()
        .put(`/posts/${created.id}`)
        .set(author.auth)
        .send({ title: 'replaced', content: 'c2', published: true });
      expect(put.status).toBe(200);
      expect(put.headers.etag).toMatch(STRONG_ETAG);
      expect(put.headers.etag).not.toBe(created.etag);
      expect(await etagOf(created.id)).toBe(put.headers.etag);

      const patch = await t.http().patch(`/posts/${created.id}`).set(author.auth).send({ title: 'patched' });
      expect(patch.status).toBe(200);
      expect(patch.headers.etag).toMatch(STRONG_ETAG);
      expect(new Set([created.etag, put.headers.etag, patch.headers.etag]).size).toBe(3);
      expect(await etagOf(created.id)).toBe(patch.headers.etag);
    });

    it.each([
      ['title', { title: 'another title' }],
      ['content', { content: 'another content' }],
      ['published', { published: false }],
    ])('changes when the %s changes', async (_field, change) => {
      const { id, etag } = await newPost();
      const response = await t.http().patch(`/posts/${id}`).set(author.auth).send(change);
      expect(response.status).toBe(200);
      expect(response.headers.etag).not.toBe(etag);
      expect((await read(id, author)).headers.etag).toBe(response.headers.etag);
    });

    it('stays the same when a PATCH or PUT changes nothing', async () => {
      const { id, etag } = await newPost('unchanged');
      const patch = await t.http().patch(`/posts/${id}`).set(author.auth).send({ title: 'unchanged' });
      expect(patch.status).toBe(200);
      expect(patch.headers.etag).toBe(etag);
      const put = await t
        .http()
        .put(`/posts/${id}`)
        .set(author.auth)
        .send({ title: 'unchanged', content: 'c', published: true });
      expect(put.status).toBe(200);
      expect(put.headers.etag).toBe(etag);
    });

    it('does not change with votes (POST /vote, PUT /posts/{id}/vote) nor with comments', async () => {
      const { id, etag } = await newPost();

      await t.http().post('/vote').set(reader.auth).send({ post_id: id, dir: 1 }).expect(201);
      const voted = await read(id);
      expect(voted.body.votes).toBe(1);
      expect(voted.headers.etag).toBe(etag);

      await t.http().put(`/posts/${id}/vote`).set(author.auth).expect(204);
      expect((await read(id)).body.votes).toBe(2);
      expect(await etagOf(id)).toBe(etag);

      await t.http().post(`/posts/${id}/comments`).set(reader.auth).send({ content: 'nice' }).expect(201);
      expect(await etagOf(id)).toBe(etag);
    });
  });

  describe('updated_at', () => {
    it('equals created_at at first, and moves with an edit only (not with a vote or a comment)', async () => {
      const { id, created_at } = await newPost();
      const first = (await read(id)).body;
      expect(first.updated_at).toBe(created_at);
      expect(first.created_at).toBe(created_at);
      const listed = await t.http().get('/posts').query({ search: 'versioned', limit: 100 }).set(reader.auth);
      expect(listed.body.find((post: { id: number }) => post.id === id)?.updated_at).toBe(created_at);

      await tick();
      await t.http().post('/vote').set(reader.auth).send({ post_id: id, dir: 1 }).expect(201);
      await t.http().post(`/posts/${id}/comments`).set(reader.auth).send({ content: 'hello' }).expect(201);
      expect((await read(id)).body.updated_at).toBe(created_at);

      await tick();
      const edited = await t.http().patch(`/posts/${id}`).set(author.auth).send({ content: 'edited' });
      expect(edited.status).toBe(200);
      expect(edited.body.created_at).toBe(created_at);
      expect(Date.parse(edited.body.updated_at)).toBeGreaterThan(Date.parse(created_at));
      expect((await read(id)).body.updated_at).toBe(edited.body.updated_at);

      // An edit that changes nothing leaves it.
      await tick();
      const same = await t.http().patch(`/posts/${id}`).set(author.auth).send({ content: 'edited' });
      expect(same.body.updated_at).toBe(edited.body.updated_at);
    });
  });

  describe('If-Match', () => {
    const writes: [string, (id: number) => request.Test][] = [
      [
        'PUT',
        (id) => t.http().put(`/posts/${id}`).set(author.auth).send({ title: 'new', content: 'new', published: false }),
      ],
      ['PATCH', (id) => t.http().patch(`/posts/${id}`).set(author.auth).send({ title: 'new' })],
      ['DELETE', (id) => t.http().delete(`/posts/${id}`).set(author.auth)],
    ];

    it.each(writes)('%s with a stale ETag answers 412 problem+json and changes nothing', async (_method, write) => {
      const { id, etag: stale } = await newPost();
      const current = await t.http().patch(`/posts/${id}`).set(author.auth).send({ content: 'moved on' });
      expect(current.headers.etag).not.toBe(stale);
      const before = await snapshotTables(t.db);

      const response = await write(id).set('If-Match', stale);

      expectProblem(response, 412);
      expect(response.body.detail).toMatch(/GET \/posts\/\d+ again/);
      expect(response.body.detail).toMatch(/ETag/);
      expect(await snapshotTables(t.db)).toEqual(before);
      expect(await etagOf(id)).toBe(current.headers.etag);
    });

    it.each(writes)('%s with the current ETag goes through', async (method, write) => {
      const { id, etag } = await newPost();
      const response = await write(id).set('If-Match', etag);
      if (method === 'DELETE') {
        expect(response.status).toBe(204);
        expect(await row(id)).toBeUndefined();
      } else {
        expect(response.status).toBe(200);
        expect(response.body.title).toBe('new');
        expect((await row(id))?.title).toBe('new');
        expect(response.headers.etag).not.toBe(etag);
      }
    });

    it.each(writes)('%s with If-Match: * goes through for an existing post', async (method, write) => {
      const { id } = await newPost();
      const response = await write(id).set('If-Match', '*');
      expect(response.status).toBe(method === 'DELETE' ? 204 : 200);
      expect((await row(id))?.title).toBe(method === 'DELETE' ? undefined : 'new');
    });

    it.each(writes)('%s with If-Match: * on a missing post answers 404', async (_method, write) => {
      expectProblem(await write(2147483647).set('If-Match', '*'), 404);
    });

    it('accepts the current ETag among others in a list', async () => {
      const { id, etag } = await newPost();
      const response = await t
        .http()
        .patch(`/posts/${id}`)
        .set(author.auth)
        .set('If-Match', `"999999", ${etag}`)
        .send({ title: 'listed' });
      expect(response.status).toBe(200);
      expect((await row(id))?.title).toBe('listed');
    });

    it.each([
      ['a weak ETag of the current version', (etag: string) => `W/${etag}`],
      ['the version without quotes', (etag: string) => etag.replaceAll('"', '')],
      ['garbage', () => 'not-an-etag'],
      ['an empty value', () => ''],
      ['a version beyond int32', () => '"99999999999"'],
      ['a very long list', (etag: string) => `${'"1", '.repeat(400)}${etag}`],
    ])('answers 412 and changes nothing for %s', async (_case, ifMatch) => {
      const { id, etag } = await newPost();
      const before = await snapshotTables(t.db);
      for (const write of writes) {
        expectProblem(await write[1](id).set('If-Match', ifMatch(etag)), 412);
      }
      expect(await snapshotTables(t.db)).toEqual(before);
    });

    it('without If-Match the writes work as before', async () => {
      const { id, etag } = await newPost();
      const patched = await t.http().patch(`/posts/${id}`).set(author.auth).send({ title: 'free' });
      expect(patched.status).toBe(200);
      expect(patched.headers.etag).not.toBe(etag);
      await t.http().delete(`/posts/${id}`).set(author.auth).expect(204);
      expect(await row(id)).toBeUndefined();
    });

    it("keeps 403 and 404 before 412: another user's write is refused as before, whatever the ETag", async () => {
      const { id, etag } = await newPost();
      expectProblem(
        await t.http().patch(`/posts/${id}`).set(reader.auth).set('If-Match', etag).send({ title: 'x' }),
        403,
      );
      expectProblem(
        await t.http().patch(`/posts/${id}`).set(reader.auth).set('If-Match', '"1234"').send({ title: 'x' }),
        403,
      );
      expectProblem(await t.http().delete('/posts/2147483647').set(author.auth).set('If-Match', '"1"'), 404);
      expect((await row(id))?.title).toBe('versioned');
    });

    it("checks an admin's DELETE of another user's post too", async () => {
      const admin = await registerUser(t);
      await t.db.query(`UPDATE users SET role = 'admin' WHERE id = $1`, [admin.id]);
      const { id, etag } = await newPost();

      expectProblem(await t.http().delete(`/posts/${id}`).set(admin.auth).set('If-Match', '"424242"'), 412);
      expect(await row(id)).toBeDefined();

      await t.http().delete(`/posts/${id}`).set(admin.auth).set('If-Match', etag).expect(204);
      expect(await row(id)).toBeUndefined();
    });

    it('lets exactly one of 10 parallel PATCHes with the same ETag win; the post holds its title', async () => {
      const { id, etag } = await newPost();
      const responses = await Promise.all(
        Array.from({ length: 10 }, (_, index) =>
          t
            .http()
            .patch(`/posts/${id}`)
            .set(author.auth)
            .set('If-Match', etag)
            .send({ title: `editor ${index}` }),
        ),
      );

      const winners = responses.filter((response) => response.status === 200);
      const losers = responses.filter((response) => response.status !== 200);
      expect(winners).toHaveLength(1);
      expect(losers).toHaveLength(9);
      for (const loser of losers) {
        expectProblem(loser, 412);
      }
      const winner = winners[0];
      const now = await read(id);
      expect(now.body.title).toBe(winner.body.title);
      expect((await row(id))?.title).toBe(winner.body.title);
      expect(now.headers.etag).toBe(winner.headers.etag);
      expect(now.headers.etag).not.toBe(etag);
    });
  });
});
