import type { Response } from 'supertest';
import { createTestApp, expectProblem, registerUser, TestApp, TestUser } from './support/test-app';

/**
 * `votes`, `comments` and `voted` on every Post, and `GET /posts?sort=top` (API.md, "Posts:
 * finding, commenting, retrying safely"). The counts are columns kept by triggers in the
 * transaction of each vote and comment; these tests change them every way the API can
 * (the three vote routes, comments, deleting a comment, an account or a post, races) and
 * compare them with what the votes and comments lists say.
 */
describe('Vote and comment counts, "voted", and the top order', () => {
  let t: TestApp;
  let alice: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    t = await createTestApp();
    alice = await registerUser(t);
    bob = await registerUser(t);
  });

  afterAll(async () => {
    await t.close();
  });

  interface PostBody {
    id: number;
    votes: number;
    comments: number;
    voted: boolean;
  }

  const ids = (response: Response) => (response.body as PostBody[]).map((post) => post.id);

  async function newPost(user: TestUser, title = 'a post', published = true): Promise<number> {
    const response = await t.http().post('/posts').set(user.auth).send({ title, content: 'c', published }).expect(201);
    return response.body.id as number;
  }

  async function postAs(user: TestUser, id: number): Promise<PostBody> {
    return (await t.http().get(`/posts/${id}`).set(user.auth).expect(200)).body as PostBody;
  }

  /** Every id of every page, following the Link headers from `url`. */
  async function walk(url: string, user: TestUser, between?: () => Promise<void>): Promise<number[]> {
    const seen: number[] = [];
    let next: string | undefined = url;
    for (let pages = 0; next && pages < 200; pages += 1) {
      const response: Response = await t.http().get(next).set(user.auth).expect(200);
      seen.push(...ids(response));
      await between?.();
      next = /^<([^>]+)>; rel="next"$/.exec(String(response.headers.link ?? ''))?.[1];
    }
    return seen;
  }

  /** How many comments the comments list of the post walks through. */
  async function listedComments(user: TestUser, postId: number): Promise<number> {
    let count = 0;
    let next: string | undefined = `/posts/${postId}/comments?limit=100`;
    while (next) {
      const response: Response = await t.http().get(next).set(user.auth).expect(200);
      count += (response.body as unknown[]).length;
      next = /^<([^>]+)>; rel="next"$/.exec(String(response.headers.link ?? ''))?.[1];
    }
    return count;
  }

  it('shows a new post with no votes, no comments and voted false, on every route that answers a Post', async () => {
    const created = await t.http().post('/posts').set(alice.auth).send({ title: 'fresh', content: 'c' }).expect(201);
    expect(created.body).toMatchObject({ votes: 0, comments: 0, voted: false });
    const id = created.body.id as number;
    expect(await postAs(bob, id)).toMatchObject({ votes: 0, comments: 0, voted: false });
    const patched = await t.http().patch(`/posts/${id}`).set(alice.auth).send({ title: 'fresh 2' }).expect(200);
    expect(patched.body).toMatchObject({ votes: 0, comments: 0, voted: false });
  });

  it('says voted for the caller only, and counts votes from every vote route', async () => {
    const id = await newPost(alice);
    await t.http().post('/vote').set(bob.auth).send({ post_id: id, dir: 1 }).expect(201);
    expect(await postAs(bob, id)).toMatchObject({ votes: 1, voted: true });
    expect(await postAs(alice, id)).toMatchObject({ votes: 1, voted: false });
    const listed = (await t.http().get(`/posts?owner_id=${alice.id}`).set(bob.auth).expect(200)).body as PostBody[];
    expect(listed.find((post) => post.id === id)).toMatchObject({ votes: 1, voted: true });

    await t.http().put(`/posts/${id}/vote`).set(alice.auth).expect(204);
    await t.http().put(`/posts/${id}/vote`).set(alice.auth).expect(204);
    expect(await postAs(alice, id)).toMatchObject({ votes: 2, voted: true });
    await t.http().post('/vote').set(bob.auth).send({ post_id: id, dir: 0 }).expect(200);
    expect(await postAs(bob, id)).toMatchObject({ votes: 1, voted: false });
    await t.http().delete(`/posts/${id}/vote`).set(alice.auth).expect(204);
    await t.http().delete(`/posts/${id}/vote`).set(alice.auth).expect(204);
    expect(await postAs(alice, id)).toMatchObject({ votes: 0, voted: false });
  });

  it('counts comments as they are written and deleted, and neither votes nor comments change the ETag', async () => {
    const id = await newPost(alice);
    const etag = (await t.http().get(`/posts/${id}`).set(alice.auth).expect(200)).headers.etag;
    const first = await t.http().post(`/posts/${id}/comments`).set(bob.auth).send({ content: 'one' }).expect(201);
    await t.http().post(`/posts/${id}/comments`).set(alice.auth).send({ content: 'two' }).expect(201);
    await t.http().put(`/posts/${id}/vote`).set(bob.auth).expect(204);
    let read = await t.http().get(`/posts/${id}`).set(bob.auth).expect(200);
    expect(read.body).toMatchObject({ comments: 2, votes: 1, voted: true });
    expect(read.headers.etag).toBe(etag);
    await t.http().delete(`/comments/${first.body.id}`).set(bob.auth).expect(204);
    read = await t.http().get(`/posts/${id}`).set(bob.auth).expect(200);
    expect(read.body).toMatchObject({ comments: 1 });
    expect(read.headers.etag).toBe(etag);
    expect(await listedComments(bob, id)).toBe(1);
  });

  it("takes a deleted account's votes and comments off the counts of other users' posts", async () => {
    const id = await newPost(alice);
    const leaver = await registerUser(t);
    await t.http().put(`/posts/${id}/vote`).set(leaver.auth).expect(204);
    await t.http().put(`/posts/${id}/vote`).set(bob.auth).expect(204);
    for (const content of ['a', 'b', 'c']) {
      await t.http().post(`/posts/${id}/comments`).set(leaver.auth).send({ content }).expect(201);
    }
    await t.http().post(`/posts/${id}/comments`).set(bob.auth).send({ content: 'stays' }).expect(201);
    expect(await postAs(alice, id)).toMatchObject({ votes: 2, comments: 4 });
    await t.http().delete('/users/me').set(leaver.auth).send({ password: leaver.password }).expect(204);
    expect(await postAs(alice, id)).toMatchObject({ votes: 1, comments: 1 });
    expect(await listedComments(alice, id)).toBe(1);
  });

  it('keeps exact counts when 24 users vote, unvote and comment on one post at once', async () => {
    const id = await newPost(alice);
    const crowd = await Promise.all(Array.from({ length: 24 }, () => registerUser(t)));
    // Every user votes twice at once (one vote each stays) and comments once.
    const writes = crowd.flatMap((user) => [
      t.http().put(`/posts/${id}/vote`).set(user.auth),
      t.http().post('/vote').set(user.auth).send({ post_id: id, dir: 1 }),
      t.http().post(`/posts/${id}/comments`).set(user.auth).send({ content: 'me too' }),
    ]);
    const answers = await Promise.all(writes);
    expect(answers.filter((answer) => answer.status >= 500)).toEqual([]);
    expect(await postAs(alice, id)).toMatchObject({ votes: 24, comments: 24 });
    expect(await listedComments(alice, id)).toBe(24);
    // Half of them take their vote back, each twice at once, while the other half comment again.
    const half = crowd.slice(0, 12);
    const rest = crowd.slice(12);
    const more = await Promise.all([
      ...half.flatMap((user) => [
        t.http().delete(`/posts/${id}/vote`).set(user.auth),
        t.http().post('/vote').set(user.auth).send({ post_id: id, dir: 0 }),
      ]),
      ...rest.map((user) => t.http().post(`/posts/${id}/comments`).set(user.auth).send({ content: 'again' })),
    ]);
    expect(more.filter((answer) => answer.status >= 500)).toEqual([]);
    const after = await postAs(crowd[0], id);
    expect(after).toMatchObject({ votes: 12, comments: 36, voted: false });
    expect(await postAs(crowd[23], id)).toMatchObject({ voted: true });
    expect(await listedComments(alice, id)).toBe(36);
    const voters = await walk('/posts?voted=true&limit=100', crowd[23]);
    expect(voters).toContain(id);
  });

  describe('sort=top', () => {
    let writer: TestUser;
    /** The writer's posts with their vote counts, as the voters below leave them. */
    const expected: { id: number; votes: number }[] = [];
    const voters: TestUser[] = [];

    beforeAll(async () => {
      writer = await registerUser(t);
      for (let index = 0; index < 4; index += 1) {
        voters.push(await registerUser(t));
      }
      // 9 posts: votes 0..4 in a scrambled order, several ties (broken by newest first).
      const votes = [2, 0, 4, 1, 2, 0, 3, 1, 2];
      for (const [index, count] of votes.entries()) {
        const id = await newPost(writer, `top ${index}`);
        for (const voter of voters.slice(0, count)) {
          await t.http().put(`/posts/${id}/vote`).set(voter.auth).expect(204);
        }
        expected.push({ id, votes: count });
      }
    });

    /** Most votes first, then newest (the ids grow with created_at here). */
    const topOrder = (posts: { id: number; votes: number }[]) =>
      [...posts].sort((a, b) => b.votes - a.votes || b.id - a.id).map((post) => post.id);

    it('lists the most voted first, then the newest, with the counts it sorts by', async () => {
      const response = await t.http().get(`/posts?sort=top&owner_id=${writer.id}&limit=100`).set(bob.auth).expect(200);
      expect(ids(response)).toEqual(topOrder(expected));
      const votes = (response.body as PostBody[]).map((post) => post.votes);
      expect(votes).toEqual([...votes].sort((a, b) => b - a));
      const newest = await t.http().get(`/posts?sort=new&owner_id=${writer.id}&limit=100`).set(bob.auth).expect(200);
      expect(ids(newest)).toEqual(expected.map((post) => post.id).reverse());
    });

    it('pages the top order by Link cursor, every post once and in order, at every page size', async () => {
      for (const limit of [1, 2, 4]) {
        expect(await walk(`/posts?sort=top&owner_id=${writer.id}&limit=${limit}`, bob)).toEqual(topOrder(expected));
      }
      const first = await t.http().get(`/posts?sort=top&owner_id=${writer.id}&limit=2`).set(bob.auth).expect(200);
      expect(String(first.headers.link)).toMatch(/[?&]sort=top&/);
    });

    it('keeps a top walk complete and in order while new posts are written during it', async () => {
      const seen = await walk(`/posts?sort=top&owner_id=${writer.id}&limit=2`, bob, async () => {
        await newPost(writer, 'written during the walk');
      });
      // The new posts have no votes and are the newest: they sort before the cursor once the
      // walk is in the zero-vote tail, or are met in order; none is repeated, none of the old is missed.
      const old = new Set(expected.map((post) => post.id));
      expect(seen.filter((id) => old.has(id))).toEqual(topOrder(expected));
      expect(new Set(seen).size).toBe(seen.length);
      for (const id of await walk(`/posts?owner_id=${writer.id}&limit=100`, bob)) {
        if (!old.has(id)) {
          await t.http().delete(`/posts/${id}`).set(writer.auth).expect(204);
        }
      }
    });

    it('walks the whole service in the top order, drafts of others left out, with search and voted', async () => {
      const draft = await newPost(writer, 'top draft', false);
      await t.http().put(`/posts/${draft}/vote`).set(writer.auth).expect(204);
      const all = await walk('/posts?sort=top&limit=7', bob);
      expect(all).not.toContain(draft);
      const ofWriter = await walk('/posts?sort=top&limit=7', writer);
      expect(ofWriter).toContain(draft);
      const everything = (await t.http().get('/posts?sort=top&limit=100').set(bob.auth).expect(200)).body as PostBody[];
      expect(all).toEqual(everything.map((post) => post.id));
      const counts = everything.map((post) => post.votes);
      expect(counts).toEqual([...counts].sort((a, b) => b - a));

      const searched = await walk('/posts?sort=top&search=top%20&limit=2', bob);
      expect(searched).toEqual(topOrder(expected));
      const byVoter = await walk('/posts?sort=top&voted=true&limit=1', voters[2]);
      expect(byVoter).toEqual(topOrder(expected.filter((post) => post.votes > 2)));
      await t.http().delete(`/posts/${draft}`).set(writer.auth).expect(204);
    });

    it("refuses a cursor of the other order, an unknown sort, and a cursor that isn't one", async () => {
      const top = await t.http().get(`/posts?sort=top&owner_id=${writer.id}&limit=1`).set(bob.auth).expect(200);
      const topCursor = /cursor=([^&>]+)/.exec(String(top.headers.link))?.[1] as string;
      const fresh = await t.http().get(`/posts?owner_id=${writer.id}&limit=1`).set(bob.auth).expect(200);
      const newCursor = /cursor=([^&>]+)/.exec(String(fresh.headers.link))?.[1] as string;
      for (const url of [`/posts?cursor=${topCursor}`, `/posts?sort=top&cursor=${newCursor}`]) {
        const response = await t.http().get(url).set(bob.auth);
        expectProblem(response, 422);
        expect(response.body.errors).toEqual([{ field: 'cursor', message: expect.stringContaining('order') }]);
      }
      for (const sort of ['best', 'TOP', '', 'top,new']) {
        const response = await t.http().get(`/posts?sort=${sort}`).set(bob.auth);
        expectProblem(response, 422);
        expect(response.body.errors).toEqual([{ field: 'sort', message: 'sort must be new or top' }]);
      }
      const forged = Buffer.from('top.99999999999.1.1').toString('base64url');
      expectProblem(await t.http().get(`/posts?sort=top&cursor=${forged}`).set(bob.auth), 422);
      const paged = await t.http().get(`/users/${writer.id}/posts?sort=top&limit=3`).set(bob.auth).expect(200);
      expect(ids(paged)).toEqual(topOrder(expected).slice(0, 3));
      expect(String(paged.headers.link)).toMatch(/^<\/users\/\d+\/posts\?limit=3&sort=top&cursor=/);
    });
  });

  it('keeps every list walk complete and in order while posts are written (and voted for) during it', async () => {
    const writer = await registerUser(t);
    const writerName = `walker_${writer.id}`;
    await t.http().patch('/users/me').set(writer.auth).send({ username: writerName }).expect(200);
    for (let index = 0; index < 7; index += 1) {
      const id = await newPost(writer, `walkable ${index}`, index !== 3);
      await t.http().put(`/posts/${id}/vote`).set(writer.auth).expect(204);
    }
    // Each walk adds a post per page: the lists of the whole service go first, while all fits in one page of 100.
    const lists: [string, TestUser][] = [
      ['/posts?sort=top&limit=10', writer],
      ['/posts?limit=10', bob],
      ['/posts?limit=10', writer],
      ['/posts?search=walkable&limit=2', bob],
      ['/posts?voted=true&limit=5', writer],
      [`/posts?author=${writerName}&limit=5`, bob],
      ['/users/me/posts?limit=5', writer],
      [`/users/${writerName}/posts?limit=5`, bob],
    ];
    for (const [url, reader] of lists) {
      const before = ids(
        await t
          .http()
          .get(url.replace(/limit=\d+/, 'limit=100'))
          .set(reader.auth)
          .expect(200),
      );
      expect(before.length).toBeLessThan(100);
      const seen = await walk(url, reader, async () => {
        // A new post by the writer, with the writer's vote: newest, and in every list above.
        const id = await newPost(writer, 'walkable, written during the walk');
        await t.http().put(`/posts/${id}/vote`).set(writer.auth).expect(204);
      });
      const old = new Set(before);
      expect({ url, walked: seen.filter((id) => old.has(id)) }).toEqual({ url, walked: before });
      expect(new Set(seen).size).toBe(seen.length);
    }
  });

  it('keeps every counter equal to the rows it counts after all of the above', async () => {
    const { rows } = await t.db.query<{ wrong: number }>(
      `SELECT count(*)::int AS wrong FROM posts p
       WHERE p.votes_count <> (SELECT count(*) FROM votes v WHERE v.post_id = p.id)
          OR p.comments_count <> (SELECT count(*) FROM comments c WHERE c.post_id = p.id)`,
    );
    expect(rows[0].wrong).toBe(0);
  });
});
