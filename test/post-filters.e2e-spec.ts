import type { Response } from 'supertest';
import { createTestApp, expectProblem, registerUser, TestApp, TestUser } from './support/test-app';

/**
 * One author's posts and the posts you voted for (API.md, "More ways to list"): every
 * filter keeps the visibility rule, `search` and cursor paging.
 */
describe('Listing by author and by vote', () => {
  let t: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let aliceName: string;
  /** Alice's posts, oldest first: 5 published and 1 draft. */
  const alicePosts: number[] = [];
  let aliceDraft: number;
  let bobPost: number;

  beforeAll(async () => {
    t = await createTestApp();
    alice = await registerUser(t);
    bob = await registerUser(t);
    aliceName = `alice_${alice.id}`;
    await t.http().patch('/users/me').set(alice.auth).send({ username: aliceName }).expect(200);
    for (let index = 0; index < 5; index += 1) {
      const created = await t
        .http()
        .post('/posts')
        .set(alice.auth)
        .send({ title: `alice ${index}`, content: 'c' });
      alicePosts.push(created.body.id as number);
    }
    aliceDraft = (
      await t.http().post('/posts').set(alice.auth).send({ title: 'alice draft', content: 'c', published: false })
    ).body.id as number;
    bobPost = (await t.http().post('/posts').set(bob.auth).send({ title: 'bob 0', content: 'c' })).body.id as number;
  });

  afterAll(async () => {
    await t.close();
  });

  const ids = (response: Response) => (response.body as { id: number }[]).map((post) => post.id);
  const newestFirst = (list: number[]) => [...list].reverse();

  /** Follows the Link headers from `url`; every id of every page, in order. */
  async function walk(url: string, user: TestUser): Promise<number[]> {
    const seen: number[] = [];
    let next: string | undefined = url;
    for (let pages = 0; next && pages < 50; pages += 1) {
      const response: Response = await t.http().get(next).set(user.auth).expect(200);
      seen.push(...ids(response));
      next = /^<([^>]+)>; rel="next"$/.exec(String(response.headers.link ?? ''))?.[1];
    }
    return seen;
  }

  it("lists one author's published posts by owner_id and by author (any case), newest first", async () => {
    const expected = newestFirst(alicePosts);
    expect(ids(await t.http().get(`/posts?owner_id=${alice.id}`).set(bob.auth).expect(200))).toEqual(expected);
    expect(ids(await t.http().get(`/posts?author=${aliceName.toUpperCase()}`).set(bob.auth).expect(200))).toEqual(
      expected,
    );
  });

  it('shows the author their own drafts too', async () => {
    const response = await t.http().get(`/posts?owner_id=${alice.id}`).set(alice.auth).expect(200);
    expect(ids(response)).toEqual([aliceDraft, ...newestFirst(alicePosts)]);
  });

  it('answers [] for an author nobody is, and 422 for a bad owner_id', async () => {
    expect((await t.http().get('/posts?author=nobody_here').set(bob.auth).expect(200)).body).toEqual([]);
    expect((await t.http().get('/posts?author=%E2%80%AEx').set(bob.auth).expect(200)).body).toEqual([]);
    expect((await t.http().get('/posts?owner_id=2147483647').set(bob.auth).expect(200)).body).toEqual([]);
    for (const bad of ['0', 'abc', '2147483648', '-1']) {
      const response = await t.http().get(`/posts?owner_id=${bad}`).set(bob.auth);
      expectProblem(response, 422);
      expect(response.body.errors).toEqual([{ field: 'owner_id', message: expect.any(String) }]);
    }
  });

  it('pages an author with Link, keeping the filter and the search, and collects every post once', async () => {
    const first = await t.http().get(`/posts?author=${aliceName}&limit=2`).set(bob.auth).expect(200);
    expect(String(first.headers.link)).toContain(`author=${aliceName}`);
    expect(await walk(`/posts?author=${aliceName}&limit=2`, bob)).toEqual(newestFirst(alicePosts));
    expect(await walk(`/posts?owner_id=${alice.id}&search=alice%201&limit=1`, bob)).toEqual([alicePosts[1]]);
  });

  it('lists the posts you voted for (voted=true) and the others (voted=false)', async () => {
    const voter = await registerUser(t);
    await t.http().put(`/posts/${alicePosts[1]}/vote`).set(voter.auth).expect(204);
    await t.http().put(`/posts/${bobPost}/vote`).set(voter.auth).expect(204);
    expect(await walk('/posts?voted=true&limit=1', voter)).toEqual([bobPost, alicePosts[1]]);
    const others = await walk(`/posts?voted=false&owner_id=${alice.id}&limit=2`, voter);
    expect(others).toEqual(newestFirst(alicePosts).filter((id) => id !== alicePosts[1]));
    expectProblem(await t.http().get('/posts?voted=yes').set(voter.auth), 422);
  });

  it('GET /users/me/posts lists your posts, drafts included, with paging', async () => {
    expect(await walk('/users/me/posts?limit=2', alice)).toEqual([aliceDraft, ...newestFirst(alicePosts)]);
    const first = await t.http().get('/users/me/posts?limit=2').set(alice.auth).expect(200);
    expect(String(first.headers.link)).toMatch(/^<\/users\/me\/posts\?limit=2&cursor=[A-Za-z0-9_-]+>; rel="next"$/);
  });

  it("GET /users/{id or username}/posts lists that user's visible posts", async () => {
    expect(await walk(`/users/${alice.id}/posts?limit=3`, bob)).toEqual(newestFirst(alicePosts));
    expect(await walk(`/users/${aliceName}/posts?limit=3`, bob)).toEqual(newestFirst(alicePosts));
    expect(await walk(`/users/${alice.id}/posts`, alice)).toEqual([aliceDraft, ...newestFirst(alicePosts)]);
  });

  it('answers 404 for a user nobody is and 422 for an id out of range, on /users/{id}/posts', async () => {
    expectProblem(await t.http().get('/users/2147483647/posts').set(bob.auth), 404);
    expectProblem(await t.http().get('/users/nobody_here/posts').set(bob.auth), 404);
    expectProblem(await t.http().get('/users/a%00b/posts').set(bob.auth), 404);
    expectProblem(await t.http().get('/users/0/posts').set(bob.auth), 422);
    expectProblem(await t.http().get('/users/me/posts'), 401);
  });

  it('keeps a walk by author complete and in order while the author adds posts during it', async () => {
    const writer = await registerUser(t);
    const written: number[] = [];
    for (let index = 0; index < 6; index += 1) {
      written.push(
        (
          await t
            .http()
            .post('/posts')
            .set(writer.auth)
            .send({ title: `w${index}`, content: 'c' })
        ).body.id,
      );
    }
    const seen: number[] = [];
    let next: string | undefined = `/posts?owner_id=${writer.id}&limit=2`;
    while (next) {
      const response: Response = await t.http().get(next).set(bob.auth).expect(200);
      seen.push(...ids(response));
      // Newer posts go before the cursor: the walk neither repeats nor skips the older ones.
      await t.http().post('/posts').set(writer.auth).send({ title: 'during the walk', content: 'c' }).expect(201);
      next = /^<([^>]+)>; rel="next"$/.exec(String(response.headers.link ?? ''))?.[1];
    }
    expect(seen).toEqual(newestFirst(written));
  });
});
