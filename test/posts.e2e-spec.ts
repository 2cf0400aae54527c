import request from 'supertest';
import { createTestApp, expectProblem, registerUser, snapshotTables, TestApp, TestUser } from './support/test-app';

const ISO_TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** A post as the API answers it. */
interface PostBody {
  id: number;
  title: string;
  content: string;
  published: boolean;
  created_at: string;
  updated_at: string;
  owner_id: number;
  owner: { id: number; username: string | null; email: string; created_at: string };
  votes: number;
}

interface ProblemBody {
  detail: string;
  errors?: { field: string; message: string }[];
}

interface PostFields {
  title?: unknown;
  content?: unknown;
  published?: unknown;
}

describe('Posts', () => {
  let t: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;

  beforeAll(async () => {
    t = await createTestApp();
    alice = await registerUser(t);
    bob = await registerUser(t);
    carol = await registerUser(t);
  });

  afterAll(async () => {
    await t.close();
  });

  /** Writes a post through the API as `author`; fails loudly unless the answer is 201. */
  async function createPost(author: TestUser, fields: PostFields = {}): Promise<PostBody> {
    const response = await t
      .http()
      .post('/posts')
      .set(author.auth)
      .send({ title: 'A title', content: 'Some content', ...fields });
    expect(response.status).toBe(201);
    return response.body as PostBody;
  }

  function idsIn(response: request.Response): number[] {
    return (response.body as PostBody[]).map((post) => post.id);
  }

  function ascending(ids: number[]): number[] {
    return [...ids].sort((a, b) => a - b);
  }

  async function removeAllPosts(): Promise<void> {
    // Votes go with their posts (ON DELETE CASCADE).
    await t.db.query('DELETE FROM posts');
  }

  async function addVote(voter: TestUser, postId: number): Promise<void> {
    await t.db.query('INSERT INTO votes (user_id, post_id) VALUES ($1, $2)', [voter.id, postId]);
  }

  async function postRow(id: number): Promise<Record<string, unknown> | undefined> {
    return (await t.db.query('SELECT * FROM posts WHERE id = $1', [id])).rows[0];
  }

  async function listPosts(viewer: TestUser, query: Record<string, string | number> = {}): Promise<request.Response> {
    return t.http().get('/posts').set(viewer.auth).query(query);
  }

  /** Sends a request that must be refused with `status` as problem+json and change no table. */
  async function expectRefusedWithoutChange(
    send: () => PromiseLike<request.Response>,
    status: number,
  ): Promise<request.Response> {
    const before = await snapshotTables(t.db);
    const response = await send();
    expectProblem(response, status);
    expect(await snapshotTables(t.db)).toEqual(before);
    return response;
  }

  function fieldsNamedIn(response: request.Response): string[] {
    return ((response.body as ProblemBody).errors ?? []).map((error) => error.field);
  }

  describe('POST /posts', () => {
    it('answers 201 with Location and exactly the documented Post shape', async () => {
      const response = await t
        .http()
        .post('/posts')
        .set(alice.auth)
        .send({ title: 'Hello', content: 'First post', published: false });

      expect(response.status).toBe(201);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.headers.location).toBe(`/posts/${response.body.id}`);
      expect(response.body).toEqual({
        id: expect.any(Number),
        title: 'Hello',
        content: 'First post',
        published: false,
        created_at: expect.stringMatching(ISO_TIMESTAMP),
        updated_at: response.body.created_at,
        owner_id: alice.id,
        owner: { id: alice.id, username: null, email: alice.email, created_at: expect.stringMatching(ISO_TIMESTAMP) },
        votes: 0,
        voted: false,
        comments: 0,
      });
      expect(response.body.id).toBeGreaterThan(0);
      expect(await postRow((response.body as PostBody).id)).toEqual(
        expect.objectContaining({ title: 'Hello', content: 'First post', published: false, owner_id: alice.id }),
      );
    });

    it('publishes the post when published is left out', async () => {
      const post = await createPost(alice, { title: 'Default published' });

      expect(post.published).toBe(true);
      expect((await postRow(post.id))?.published).toBe(true);
    });

    it('stores and answers the title trimmed', async () => {
      const post = await createPost(alice, { title: '   Spaced out title \t ' });

      expect(post.title).toBe('Spaced out title');
      expect((await postRow(post.id))?.title).toBe('Spaced out title');
    });

    it('makes the caller the owner of the post', async () => {
      const post = await createPost(bob, { title: 'Bob writes' });

      expect(post.owner_id).toBe(bob.id);
      expect(post.owner).toEqual({
        id: bob.id,
        username: null,
        email: bob.email,
        created_at: expect.stringMatching(ISO_TIMESTAMP),
      });
      expect((await postRow(post.id))?.owner_id).toBe(bob.id);
    });

    it('accepts a title of exactly 200 characters', async () => {
      const title = 'a'.repeat(200);
      const post = await createPost(alice, { title });

      expect(post.title).toBe(title);
    });

    it('counts a title of 200 emoji as 200 characters and accepts it', async () => {
      const title = '😀'.repeat(200);
      const post = await createPost(alice, { title });

      expect(post.title).toBe(title);
      expect((await postRow(post.id))?.title).toBe(title);
    });

    it('counts characters as code points, like the title column: 100 ❤️ (two each) fit, 101 do not', async () => {
      // U+2764 U+FE0F: one emoji, two code points.
      const fits = '\u2764\uFE0F'.repeat(100);
      const post = await createPost(alice, { title: fits });
      expect((await postRow(post.id))?.title).toBe(fits);

      const before = await snapshotTables(t.db);
      const response = await t
        .http()
        .post('/posts')
        .set(alice.auth)
        .send({ title: '\u2764\uFE0F'.repeat(101), content: 'Some content' });
      expectProblem(response, 422);
      expect(response.body.errors).toEqual([{ field: 'title', message: expect.any(String) }]);
      expect(await snapshotTables(t.db)).toEqual(before);
    });

    it('answers 422, never 500, for a title of 199 letters and two variation selectors', async () => {
      const before = await snapshotTables(t.db);

      const response = await t
        .http()
        .post('/posts')
        .set(alice.auth)
        .send({ title: 'a'.repeat(199) + '\uFE0F\uFE0F', content: 'Some content' });

      expectProblem(response, 422);
      expect(await snapshotTables(t.db)).toEqual(before);
    });

    it('accepts content of exactly 20,000 characters', async () => {
      const content = 'c'.repeat(20_000);
      const post = await createPost(alice, { content });

      expect(post.content).toBe(content);
    });

    it.each<[string, unknown, string]>([
      ['the title is missing', { content: 'Some content' }, 'title'],
      ['the content is missing', { title: 'A title' }, 'content'],
      ['the title is empty', { title: '', content: 'Some content' }, 'title'],
      ['the title is only spaces', { title: '     ', content: 'Some content' }, 'title'],
      ['the title is 201 characters', { title: 'a'.repeat(201), content: 'Some content' }, 'title'],
      ['the title is 201 emoji', { title: '😀'.repeat(201), content: 'Some content' }, 'title'],
      ['the title is null', { title: null, content: 'Some content' }, 'title'],
      ['the content is 20,001 characters', { title: 'A title', content: 'c'.repeat(20_001) }, 'content'],
      ['the content is only white space', { title: 'A title', content: ' \n\t  ' }, 'content'],
      ['published is the string "true"', { title: 'A title', content: 'Some content', published: 'true' }, 'published'],
      ['published is null', { title: 'A title', content: 'Some content', published: null }, 'published'],
      ['the body sets owner_id', { title: 'A title', content: 'Some content', owner_id: 1 }, 'owner_id'],
      ['the body sets id', { title: 'A title', content: 'Some content', id: 999 }, 'id'],
      [
        'the body sets created_at',
        { title: 'A title', content: 'Some content', created_at: '2020-01-01T00:00:00.000Z' },
        'created_at',
      ],
      ['the body sets votes', { title: 'A title', content: 'Some content', votes: 100 }, 'votes'],
      [
        'the body sets updated_at',
        { title: 'A title', content: 'Some content', updated_at: '2020-01-01T00:00:00.000Z' },
        'updated_at',
      ],
    ])('answers 422 naming the field and changes nothing when %s', async (_case, body, field) => {
      const response = await expectRefusedWithoutChange(
        () =>
          t
            .http()
            .post('/posts')
            .set(bob.auth)
            .send(body as object),
        422,
      );

      expect(fieldsNamedIn(response)).toContain(field);
    });

    it('answers 422 and changes nothing when the body is an array', async () => {
      await expectRefusedWithoutChange(
        () =>
          t
            .http()
            .post('/posts')
            .set(bob.auth)
            .send([{ title: 'A title', content: 'Some content' }]),
        422,
      );
    });

    it('answers 401 with WWW-Authenticate and changes nothing without a token', async () => {
      const response = await expectRefusedWithoutChange(
        () => t.http().post('/posts').send({ title: 'A title', content: 'Some content' }),
        401,
      );

      expect(response.headers['www-authenticate']).toBe('Bearer');
    });

    it('answers 400 and changes nothing when the JSON is malformed', async () => {
      await expectRefusedWithoutChange(
        () =>
          t.http().post('/posts').set(bob.auth).set('Content-Type', 'application/json').send('{"title": "A title",'),
        400,
      );
    });

    it('answers 415 and changes nothing for a text/plain body', async () => {
      await expectRefusedWithoutChange(
        () => t.http().post('/posts').set(bob.auth).set('Content-Type', 'text/plain').send('title=A title'),
        415,
      );
    });
  });

  describe('GET /posts/{id}', () => {
    it('answers 200 with the Post shape', async () => {
      const created = await createPost(alice, { title: 'Readable', content: 'Body text' });

      const response = await t.http().get(`/posts/${created.id}`).set(bob.auth);

      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.body).toEqual({
        id: created.id,
        title: 'Readable',
        content: 'Body text',
        published: true,
        created_at: created.created_at,
        updated_at: created.created_at,
        owner_id: alice.id,
        owner: { id: alice.id, username: null, email: alice.email, created_at: expect.stringMatching(ISO_TIMESTAMP) },
        votes: 0,
        voted: false,
        comments: 0,
      });
    });

    it('answers 404 problem+json for an id that does not exist', async () => {
      const response = await t.http().get('/posts/2147483647').set(alice.auth);

      expectProblem(response, 404);
    });

    it.each(['abc', '0', '-5', '2147483648', '1.5'])('answers 422 problem+json for the id %s', async (id) => {
      const response = await t.http().get(`/posts/${id}`).set(alice.auth);

      expectProblem(response, 422);
      expect(fieldsNamedIn(response)).toContain('id');
    });

    it("answers 404 for another user's unpublished post, exactly as for a missing post", async () => {
      const draft = await createPost(alice, { title: 'Secret draft', published: false });
      const missingId = 2147483646;

      const forDraft = await t.http().get(`/posts/${draft.id}`).set(bob.auth);
      const forMissing = await t.http().get(`/posts/${missingId}`).set(bob.auth);

      expectProblem(forDraft, 404);
      expectProblem(forMissing, 404);
      const withoutId = (response: request.Response, id: number) => {
        const body = response.body as ProblemBody;
        return { ...body, detail: body.detail.replace(String(id), '{id}') };
      };
      expect(withoutId(forDraft, draft.id)).toEqual(withoutId(forMissing, missingId));
    });

    it('answers 200 for your own unpublished post', async () => {
      const draft = await createPost(alice, { title: 'My draft', published: false });

      const response = await t.http().get(`/posts/${draft.id}`).set(alice.auth);

      expect(response.status).toBe(200);
      expect(response.body).toEqual(expect.objectContaining({ id: draft.id, title: 'My draft', published: false }));
    });

    it('answers 401 without a token', async () => {
      const post = await createPost(alice);

      const response = await t.http().get(`/posts/${post.id}`);

      expectProblem(response, 401);
    });
  });

  describe('GET /posts', () => {
    beforeEach(removeAllPosts);

    it('lists newest first, by created_at and then by id, descending', async () => {
      const first = await createPost(alice, { title: 'first' });
      const second = await createPost(alice, { title: 'second' });
      const third = await createPost(alice, { title: 'third' });
      const fourth = await createPost(alice, { title: 'fourth' });
      // The oldest id is made the newest post; two posts share a timestamp, so id decides.
      await t.db.query('UPDATE posts SET created_at = $2 WHERE id = $1', [first.id, '2030-01-03T00:00:00Z']);
      await t.db.query('UPDATE posts SET created_at = $2 WHERE id = $1', [second.id, '2030-01-01T00:00:00Z']);
      await t.db.query('UPDATE posts SET created_at = $2 WHERE id = $1', [third.id, '2030-01-02T00:00:00Z']);
      await t.db.query('UPDATE posts SET created_at = $2 WHERE id = $1', [fourth.id, '2030-01-02T00:00:00Z']);

      const response = await listPosts(bob);

      expect(response.status).toBe(200);
      expect(idsIn(response)).toEqual([first.id, fourth.id, third.id, second.id]);
    });

    it('answers every entry in the Post shape', async () => {
      const post = await createPost(alice, { title: 'Shape check', content: 'Shape content' });

      const response = await listPosts(bob);

      expect(response.status).toBe(200);
      expect(response.body).toEqual([
        {
          id: post.id,
          title: 'Shape check',
          content: 'Shape content',
          published: true,
          created_at: post.created_at,
          updated_at: post.created_at,
          owner_id: alice.id,
          owner: { id: alice.id, username: null, email: alice.email, created_at: expect.stringMatching(ISO_TIMESTAMP) },
          votes: 0,
          voted: false,
          comments: 0,
        },
      ]);
    });

    it('returns 10 posts when no limit is given', async () => {
      for (let index = 0; index < 12; index += 1) {
        await createPost(alice, { title: `post ${index}` });
      }

      const response = await listPosts(bob);

      expect(response.status).toBe(200);
      expect(response.body).toHaveLength(10);
    });

    it('accepts limit 1 and limit 100', async () => {
      for (let index = 0; index < 3; index += 1) {
        await createPost(alice, { title: `post ${index}` });
      }

      const one = await listPosts(bob, { limit: 1 });
      const hundred = await listPosts(bob, { limit: 100 });

      expect(one.status).toBe(200);
      expect(one.body).toHaveLength(1);
      expect(hundred.status).toBe(200);
      expect(hundred.body).toHaveLength(3);
    });

    it.each(['0', '101', 'abc', '1.5', '', '-1'])('answers 422 problem+json for limit=%p', async (limit) => {
      const response = await t.http().get(`/posts?limit=${limit}`).set(bob.auth);

      expectProblem(response, 422);
      expect(fieldsNamedIn(response)).toContain('limit');
    });

    it.each(['-1', 'abc', '1.5'])('answers 422 problem+json for skip=%p', async (skip) => {
      const response = await t.http().get(`/posts?skip=${skip}`).set(bob.auth);

      expectProblem(response, 422);
      expect(fieldsNamedIn(response)).toContain('skip');
    });

    it('answers 422 problem+json naming an unknown query parameter', async () => {
      const response = await t.http().get('/posts?page=2').set(bob.auth);

      expectProblem(response, 422);
      expect(fieldsNamedIn(response)).toContain('page');
    });

    it('walks every visible post with limit and skip, in order and without overlap', async () => {
      const visibleIds: number[] = [];
      for (let index = 0; index < 4; index += 1) {
        visibleIds.push((await createPost(alice, { title: `alice ${index}` })).id);
        visibleIds.push((await createPost(bob, { title: `bob ${index}` })).id);
        await createPost(alice, { title: `alice draft ${index}`, published: false });
      }
      visibleIds.push((await createPost(bob, { title: 'bob draft', published: false })).id);
      const newestFirst = [...visibleIds].sort((a, b) => b - a);

      const seen: number[] = [];
      for (let skip = 0; skip < 20; skip += 3) {
        const page = await listPosts(bob, { limit: 3, skip });
        expect(page.status).toBe(200);
        expect(page.body.length).toBeLessThanOrEqual(3);
        seen.push(...idsIn(page));
      }

      expect(seen).toEqual(newestFirst);
      expect(new Set(seen).size).toBe(seen.length);
    });

    it("lists your own drafts but never another user's", async () => {
      const aliceDraft = await createPost(alice, { title: 'alice draft', published: false });
      const alicePublished = await createPost(alice, { title: 'alice published' });
      const bobDraft = await createPost(bob, { title: 'bob draft', published: false });
      const bobPublished = await createPost(bob, { title: 'bob published' });

      const forAlice = await listPosts(alice, { limit: 100 });
      const forCarol = await listPosts(carol, { limit: 100 });

      expect(ascending(idsIn(forAlice))).toEqual(ascending([aliceDraft.id, alicePublished.id, bobPublished.id]));
      expect(ascending(idsIn(forCarol))).toEqual(ascending([alicePublished.id, bobPublished.id]));
      expect(idsIn(forAlice)).not.toContain(bobDraft.id);
    });

    it('counts the votes of each post', async () => {
      const twoVotes = await createPost(alice, { title: 'two votes' });
      const noVotes = await createPost(alice, { title: 'no votes' });
      const threeVotes = await createPost(bob, { title: 'three votes' });
      await addVote(alice, twoVotes.id);
      await addVote(bob, twoVotes.id);
      await addVote(alice, threeVotes.id);
      await addVote(bob, threeVotes.id);
      await addVote(carol, threeVotes.id);

      const response = await listPosts(carol);

      const votesById = Object.fromEntries((response.body as PostBody[]).map((post) => [post.id, post.votes]));
      expect(votesById).toEqual({ [twoVotes.id]: 2, [noVotes.id]: 0, [threeVotes.id]: 3 });
      const single = await t.http().get(`/posts/${threeVotes.id}`).set(carol.auth);
      expect(single.body.votes).toBe(3);
    });

    describe('search', () => {
      const titles = {
        hello: 'Hello World',
        shouting: 'they said HELLO loudly',
        goodbye: 'Goodbye',
        percent: '100% sure',
        noPercent: '100 percent sure',
        underscore: 'snake_case name',
        noUnderscore: 'snakeXcase name',
        backslash: 'C:\\temp\\file',
        noBackslash: 'C:tempfile',
      };
      let idsByTitle: Record<keyof typeof titles, number>;

      beforeEach(async () => {
        idsByTitle = {} as Record<keyof typeof titles, number>;
        for (const [name, title] of Object.entries(titles)) {
          idsByTitle[name as keyof typeof titles] = (await createPost(alice, { title })).id;
        }
      });

      async function searchIds(search: string): Promise<number[]> {
        const response = await listPosts(bob, { limit: 100, search });
        expect(response.status).toBe(200);
        return ascending(idsIn(response));
      }

      it('matches a substring of the title case-insensitively', async () => {
        expect(await searchIds('hElLo')).toEqual(ascending([idsByTitle.hello, idsByTitle.shouting]));
        expect(await searchIds('ODBY')).toEqual([idsByTitle.goodbye]);
      });

      it('treats % as a literal character', async () => {
        expect(await searchIds('%')).toEqual([idsByTitle.percent]);
        expect(await searchIds('100%')).toEqual([idsByTitle.percent]);
      });

      it('treats _ as a literal character', async () => {
        expect(await searchIds('_')).toEqual([idsByTitle.underscore]);
        expect(await searchIds('snake_case')).toEqual([idsByTitle.underscore]);
      });

      it('matches a backslash literally', async () => {
        expect(await searchIds('\\temp')).toEqual([idsByTitle.backslash]);
        expect(await searchIds('\\')).toEqual([idsByTitle.backslash]);
      });

      it('returns [] for SQL in the search and leaves the posts table in place', async () => {
        const response = await listPosts(bob, { search: "'; DROP TABLE posts; --" });

        expect(response.status).toBe(200);
        expect(response.body).toEqual([]);
        const table = await t.db.query("SELECT to_regclass('public.posts') AS name");
        expect(table.rows[0].name).toBe('posts');
        const count = await t.db.query('SELECT count(*)::int AS count FROM posts');
        expect(count.rows[0].count).toBe(Object.keys(titles).length);
      });
    });

    it('answers 401 without a token', async () => {
      const response = await t.http().get('/posts');

      expectProblem(response, 401);
    });
  });

  describe('PUT /posts/{id}', () => {
    it('replaces every field for the owner and answers 200 with the post', async () => {
      const post = await createPost(alice, { title: 'Old title', content: 'Old content', published: true });

      const response = await t
        .http()
        .put(`/posts/${post.id}`)
        .set(alice.auth)
        .send({ title: '  New title  ', content: 'New content', published: false });

      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        ...post,
        title: 'New title',
        content: 'New content',
        published: false,
        // The change moves updated_at (test/post-etag.e2e-spec.ts checks by how much).
        updated_at: expect.stringMatching(ISO_TIMESTAMP),
      });
      expect(await postRow(post.id)).toEqual(
        expect.objectContaining({ title: 'New title', content: 'New content', published: false, owner_id: alice.id }),
      );
    });

    it.each(['title', 'content', 'published'])(
      'answers 422 naming %s and changes nothing when it is missing',
      async (field) => {
        const post = await createPost(alice);
        const body: Record<string, unknown> = { title: 'New title', content: 'New content', published: false };
        delete body[field];

        const response = await expectRefusedWithoutChange(
          () => t.http().put(`/posts/${post.id}`).set(alice.auth).send(body),
          422,
        );

        expect(fieldsNamedIn(response)).toContain(field);
      },
    );

    it("answers 403 for another user's published post and leaves it unchanged", async () => {
      const post = await createPost(alice, { title: 'Alice owns this' });

      await expectRefusedWithoutChange(
        () =>
          t
            .http()
            .put(`/posts/${post.id}`)
            .set(bob.auth)
            .send({ title: 'Bob was here', content: 'Hijacked', published: false }),
        403,
      );

      expect(await postRow(post.id)).toEqual(expect.objectContaining({ title: 'Alice owns this', published: true }));
    });

    it("answers 404 for another user's draft", async () => {
      const draft = await createPost(alice, { published: false });

      await expectRefusedWithoutChange(
        () => t.http().put(`/posts/${draft.id}`).set(bob.auth).send({ title: 'x', content: 'y', published: true }),
        404,
      );
    });

    it('answers 404 for a post that does not exist', async () => {
      await expectRefusedWithoutChange(
        () => t.http().put('/posts/2147483647').set(alice.auth).send({ title: 'x', content: 'y', published: true }),
        404,
      );
    });
  });

  describe('PATCH /posts/{id}', () => {
    it('changes only published when only published is sent', async () => {
      const post = await createPost(alice, { title: 'Keep me', content: 'Keep this too' });

      const response = await t.http().patch(`/posts/${post.id}`).set(alice.auth).send({ published: false });

      expect(response.status).toBe(200);
      expect(response.body).toEqual({ ...post, published: false, updated_at: expect.stringMatching(ISO_TIMESTAMP) });
    });

    it('changes only the title, trimmed, when only the title is sent', async () => {
      const post = await createPost(alice, { title: 'Old title', content: 'Untouched', published: false });

      const response = await t.http().patch(`/posts/${post.id}`).set(alice.auth).send({ title: '  Fresh title ' });

      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        ...post,
        title: 'Fresh title',
        updated_at: expect.stringMatching(ISO_TIMESTAMP),
      });
      expect((await postRow(post.id))?.title).toBe('Fresh title');
    });

    it('answers 422 and changes nothing for an empty body', async () => {
      const post = await createPost(alice);

      await expectRefusedWithoutChange(() => t.http().patch(`/posts/${post.id}`).set(alice.auth).send({}), 422);
    });

    it('answers 422 and leaves the post unchanged when the title is null', async () => {
      const post = await createPost(alice, { title: 'Not null' });

      const response = await expectRefusedWithoutChange(
        () => t.http().patch(`/posts/${post.id}`).set(alice.auth).send({ title: null }),
        422,
      );

      expect(fieldsNamedIn(response)).toContain('title');
      expect((await postRow(post.id))?.title).toBe('Not null');
    });

    it('answers 422 naming an unknown field and changes nothing', async () => {
      const post = await createPost(alice);

      const response = await expectRefusedWithoutChange(
        () => t.http().patch(`/posts/${post.id}`).set(alice.auth).send({ owner_id: bob.id }),
        422,
      );

      expect(fieldsNamedIn(response)).toContain('owner_id');
    });

    it("answers 403 for another user's post and leaves it unchanged", async () => {
      const post = await createPost(alice, { title: 'Hands off' });

      await expectRefusedWithoutChange(
        () => t.http().patch(`/posts/${post.id}`).set(bob.auth).send({ title: 'Taken over' }),
        403,
      );

      expect((await postRow(post.id))?.title).toBe('Hands off');
    });

    it("answers 404 for another user's draft", async () => {
      const draft = await createPost(alice, { published: false });

      await expectRefusedWithoutChange(
        () => t.http().patch(`/posts/${draft.id}`).set(bob.auth).send({ title: 'Found it' }),
        404,
      );
    });
  });

  describe('DELETE /posts/{id}', () => {
    it('answers 204 with an empty body for the owner and deletes the post and its votes', async () => {
      const post = await createPost(alice);
      const other = await createPost(alice);
      await addVote(alice, post.id);
      await addVote(bob, post.id);
      await addVote(bob, other.id);

      const response = await t.http().delete(`/posts/${post.id}`).set(alice.auth);

      expect(response.status).toBe(204);
      expect(response.text ?? '').toBe('');
      expect(await postRow(post.id)).toBeUndefined();
      const votesOfPost = await t.db.query('SELECT * FROM votes WHERE post_id = $1', [post.id]);
      expect(votesOfPost.rows).toEqual([]);
      const votesOfOther = await t.db.query('SELECT * FROM votes WHERE post_id = $1', [other.id]);
      expect(votesOfOther.rows).toHaveLength(1);
    });

    it('answers 404 to a second delete of the same post', async () => {
      const post = await createPost(alice);
      await t.http().delete(`/posts/${post.id}`).set(alice.auth).expect(204);

      await expectRefusedWithoutChange(() => t.http().delete(`/posts/${post.id}`).set(alice.auth), 404);
    });

    it("answers 403 for another user's post and keeps it", async () => {
      const post = await createPost(alice);
      await addVote(carol, post.id);

      await expectRefusedWithoutChange(() => t.http().delete(`/posts/${post.id}`).set(bob.auth), 403);

      expect(await postRow(post.id)).toBeDefined();
    });

    it("answers 404 for another user's draft and keeps it", async () => {
      const draft = await createPost(alice, { published: false });

      await expectRefusedWithoutChange(() => t.http().delete(`/posts/${draft.id}`).set(bob.auth), 404);

      expect(await postRow(draft.id)).toBeDefined();
    });
  });

  describe('trailing slash', () => {
    it('answers GET /posts/ with 200 directly, without a redirect', async () => {
      const post = await createPost(alice, { title: 'Slash list' });

      const response = await t.http().get('/posts/').set(bob.auth);

      expect(response.status).toBe(200);
      expect(response.headers.location).toBeUndefined();
      expect(idsIn(response)).toContain(post.id);
    });

    it('answers GET /posts/{id}/ with 200 directly, without a redirect', async () => {
      const post = await createPost(alice, { title: 'Slash one' });

      const response = await t.http().get(`/posts/${post.id}/`).set(bob.auth);

      expect(response.status).toBe(200);
      expect(response.headers.location).toBeUndefined();
      expect(response.body).toEqual(expect.objectContaining({ id: post.id, title: 'Slash one' }));
    });
  });
});
