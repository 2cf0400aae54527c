import request from 'supertest';
import { createTestApp, expectProblem, registerUser, snapshotTables, TestApp, TestUser } from './support/test-app';

describe('Votes', () => {
  let t: TestApp;
  let alice: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    t = await createTestApp();
    [alice, bob] = [await registerUser(t), await registerUser(t)];
  });

  afterAll(async () => {
    await t.close();
  });

  async function createPost(owner: TestUser, published = true): Promise<number> {
    const response = await t
      .http()
      .post('/posts')
      .set(owner.auth)
      .send({ title: 'A post to vote on', content: 'Some content', published });
    expect(response.status).toBe(201);
    return response.body.id as number;
  }

  function vote(voter: TestUser, body: unknown): request.Test {
    return t
      .http()
      .post('/vote')
      .set(voter.auth)
      .send(body as object);
  }

  async function votesCountOf(postId: number, viewer: TestUser): Promise<number> {
    const response = await t.http().get(`/posts/${postId}`).set(viewer.auth);
    expect(response.status).toBe(200);
    return response.body.votes as number;
  }

  async function voteRowsFor(postId: number, userId?: number): Promise<number> {
    const { rows } =
      userId === undefined
        ? await t.db.query('SELECT count(*)::int AS n FROM votes WHERE post_id = $1', [postId])
        : await t.db.query('SELECT count(*)::int AS n FROM votes WHERE post_id = $1 AND user_id = $2', [
            postId,
            userId,
          ]);
    return rows[0].n as number;
  }

  /** Sends the request and asserts that no table changed. */
  async function expectNothingChangedBy(send: () => Promise<request.Response>): Promise<request.Response> {
    const before = await snapshotTables(t.db);
    const response = await send();
    expect(await snapshotTables(t.db)).toEqual(before);
    return response;
  }

  describe('dir 1', () => {
    it('answers 201 "Vote added" with Location /posts/{post_id} when the caller has not voted yet', async () => {
      const postId = await createPost(alice);

      const response = await vote(bob, { post_id: postId, dir: 1 });

      expect(response.status).toBe(201);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.headers.location).toBe(`/posts/${postId}`);
      expect(response.body).toEqual({ message: 'Vote added' });
      expect(await voteRowsFor(postId, bob.id)).toBe(1);
    });

    it('answers 409 problem+json when the caller has already voted, and keeps the one vote', async () => {
      const postId = await createPost(alice);
      await vote(bob, { post_id: postId, dir: 1 }).expect(201);

      const response = await expectNothingChangedBy(() => vote(bob, { post_id: postId, dir: 1 }));

      expectProblem(response, 409);
      expect(response.headers.location).toBeUndefined();
      expect(await voteRowsFor(postId, bob.id)).toBe(1);
      expect(await votesCountOf(postId, bob)).toBe(1);
    });

    it('answers on /vote/ with a trailing slash directly, without a redirect', async () => {
      const postId = await createPost(alice);

      const response = await t.http().post('/vote/').set(bob.auth).send({ post_id: postId, dir: 1 });

      expect(response.status).toBe(201);
      expect(response.body).toEqual({ message: 'Vote added' });
      expect(response.headers.location).toBe(`/posts/${postId}`);
    });

    it('lets the owner vote on their own unpublished post', async () => {
      const postId = await createPost(alice, false);

      const response = await vote(alice, { post_id: postId, dir: 1 });

      expect(response.status).toBe(201);
      expect(response.body).toEqual({ message: 'Vote added' });
      expect(response.headers.location).toBe(`/posts/${postId}`);
      expect(await votesCountOf(postId, alice)).toBe(1);
    });
  });

  describe('dir 0', () => {
    it('answers 200 "Vote removed" when the caller has voted, and the vote is gone', async () => {
      const postId = await createPost(alice);
      await vote(bob, { post_id: postId, dir: 1 }).expect(201);

      const response = await vote(bob, { post_id: postId, dir: 0 });

      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.body).toEqual({ message: 'Vote removed' });
      expect(await voteRowsFor(postId, bob.id)).toBe(0);
    });

    it('answers 404 problem+json when the caller has not voted on the post', async () => {
      const postId = await createPost(alice);

      const response = await expectNothingChangedBy(() => vote(bob, { post_id: postId, dir: 0 }));

      expectProblem(response, 404);
    });

    it("does not remove another user's vote", async () => {
      const postId = await createPost(alice);
      await vote(alice, { post_id: postId, dir: 1 }).expect(201);

      const response = await expectNothingChangedBy(() => vote(bob, { post_id: postId, dir: 0 }));

      expectProblem(response, 404);
      expect(await voteRowsFor(postId, alice.id)).toBe(1);
    });

    it('lets the owner take back a vote on their own unpublished post', async () => {
      const postId = await createPost(alice, false);
      await vote(alice, { post_id: postId, dir: 1 }).expect(201);

      const response = await vote(alice, { post_id: postId, dir: 0 });

      expect(response.status).toBe(200);
      expect(response.body).toEqual({ message: 'Vote removed' });
      expect(await votesCountOf(postId, alice)).toBe(0);
    });
  });

  describe('a post the caller cannot vote on', () => {
    it.each([1, 0])('answers 404 problem+json for a post that does not exist (dir %p)', async (dir) => {
      const response = await expectNothingChangedBy(() => vote(bob, { post_id: 2_147_483_647, dir }));

      expectProblem(response, 404);
    });

    it.each([1, 0])("answers 404 problem+json for another user's unpublished post (dir %p)", async (dir) => {
      const postId = await createPost(alice, false);

      const response = await expectNothingChangedBy(() => vote(bob, { post_id: postId, dir }));

      expectProblem(response, 404);
    });

    it("answers 404 for dir 0 on another user's unpublished post even when a vote of the caller is stored", async () => {
      const postId = await createPost(alice);
      await vote(bob, { post_id: postId, dir: 1 }).expect(201);
      await t.http().patch(`/posts/${postId}`).set(alice.auth).send({ published: false }).expect(200);

      const response = await expectNothingChangedBy(() => vote(bob, { post_id: postId, dir: 0 }));

      expectProblem(response, 404);
    });

    it('answers 404 for a post that was deleted', async () => {
      const postId = await createPost(alice);
      await t.http().delete(`/posts/${postId}`).set(alice.auth).expect(204);

      const response = await expectNothingChangedBy(() => vote(bob, { post_id: postId, dir: 1 }));

      expectProblem(response, 404);
    });
  });

  describe('validation', () => {
    let postId: number;

    beforeAll(async () => {
      postId = await createPost(alice);
    });

    function expectFieldError(response: request.Response, field: string): void {
      expectProblem(response, 422);
      expect(response.body.errors).toEqual(
        expect.arrayContaining([expect.objectContaining({ field, message: expect.any(String) })]),
      );
      expect(response.body.errors.every((error: { field: string }) => error.field === field)).toBe(true);
    }

    it.each([
      ['2', 2],
      ['-1', -1],
      ['the string "1"', '1'],
      ['true', true],
      ['null', null],
      ['0.5', 0.5],
    ])('answers 422 naming dir when dir is %s', async (_label, dir) => {
      const response = await expectNothingChangedBy(() => vote(bob, { post_id: postId, dir }));

      expectFieldError(response, 'dir');
    });

    it('answers 422 naming dir when dir is missing', async () => {
      const response = await expectNothingChangedBy(() => vote(bob, { post_id: postId }));

      expectFieldError(response, 'dir');
    });

    it.each([
      ['0', 0],
      ['-1', -1],
      ['the string "7"', '7'],
      ['1.5', 1.5],
      ['2147483648, beyond the id column', 2_147_483_648],
      ['null', null],
    ])('answers 422 naming post_id when post_id is %s', async (_label, value) => {
      const response = await expectNothingChangedBy(() => vote(bob, { post_id: value, dir: 1 }));

      expectFieldError(response, 'post_id');
    });

    it('answers 422 naming post_id when post_id is missing', async () => {
      const response = await expectNothingChangedBy(() => vote(bob, { dir: 1 }));

      expectFieldError(response, 'post_id');
    });

    it('answers 422 naming the unknown field when the body has one', async () => {
      const response = await expectNothingChangedBy(() => vote(bob, { post_id: postId, dir: 1, user_id: alice.id }));

      expectFieldError(response, 'user_id');
    });

    it('answers 422 with one entry per bad field when both fields are bad', async () => {
      const response = await expectNothingChangedBy(() => vote(bob, { post_id: 0, dir: 2 }));

      expectProblem(response, 422);
      const fields = response.body.errors.map((error: { field: string }) => error.field);
      expect(new Set(fields)).toEqual(new Set(['post_id', 'dir']));
    });
  });

  describe('authentication', () => {
    it('answers 401 problem+json with WWW-Authenticate: Bearer when no token is sent', async () => {
      const postId = await createPost(alice);

      const response = await expectNothingChangedBy(() => t.http().post('/vote').send({ post_id: postId, dir: 1 }));

      expectProblem(response, 401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
    });

    it('answers 401 problem+json when the token is not valid', async () => {
      const postId = await createPost(alice);

      const response = await expectNothingChangedBy(() =>
        t.http().post('/vote').set({ Authorization: 'Bearer not-a-jwt' }).send({ post_id: postId, dir: 1 }),
      );

      expectProblem(response, 401);
      expect(response.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
    });
  });

  describe("the post's votes count", () => {
    it('follows the votes as they are added and removed', async () => {
      const postId = await createPost(alice);
      expect(await votesCountOf(postId, alice)).toBe(0);

      await vote(alice, { post_id: postId, dir: 1 }).expect(201);
      expect(await votesCountOf(postId, alice)).toBe(1);

      await vote(bob, { post_id: postId, dir: 1 }).expect(201);
      expect(await votesCountOf(postId, bob)).toBe(2);

      await vote(alice, { post_id: postId, dir: 0 }).expect(200);
      expect(await votesCountOf(postId, alice)).toBe(1);

      await vote(bob, { post_id: postId, dir: 0 }).expect(200);
      expect(await votesCountOf(postId, bob)).toBe(0);
    });

    it('also shows in the list of posts', async () => {
      const postId = await createPost(alice);
      await vote(bob, { post_id: postId, dir: 1 }).expect(201);

      const response = await t.http().get('/posts').query({ limit: 100 }).set(bob.auth).expect(200);

      const listed = response.body.find((post: { id: number }) => post.id === postId);
      expect(listed).toEqual(expect.objectContaining({ id: postId, votes: 1 }));
    });

    it('lets a user vote again after taking the vote back', async () => {
      const postId = await createPost(alice);
      await vote(bob, { post_id: postId, dir: 1 }).expect(201);
      await vote(bob, { post_id: postId, dir: 0 }).expect(200);

      const response = await vote(bob, { post_id: postId, dir: 1 });

      expect(response.status).toBe(201);
      expect(await votesCountOf(postId, bob)).toBe(1);
    });
  });

  describe('concurrency', () => {
    it('gives exactly one 201 and 49 × 409 for 50 parallel dir 1 calls of one user on one post', async () => {
      const postId = await createPost(alice);

      const responses = await Promise.all(
        Array.from({ length: 50 }, () => vote(bob, { post_id: postId, dir: 1 }).then((response) => response)),
      );

      const statuses = responses.map((response) => response.status);
      expect(statuses.filter((status) => status >= 500)).toEqual([]);
      expect(statuses.filter((status) => status === 201)).toHaveLength(1);
      expect(statuses.filter((status) => status === 409)).toHaveLength(49);
      for (const response of responses.filter((each) => each.status === 409)) {
        expectProblem(response, 409);
      }
      expect(await votesCountOf(postId, bob)).toBe(1);
      expect(await voteRowsFor(postId, bob.id)).toBe(1);
    });

    it('counts 20 votes when 20 different users vote on one post at once', async () => {
      const postId = await createPost(alice);
      const voters: TestUser[] = [];
      for (let index = 0; index < 20; index += 1) {
        voters.push(await registerUser(t));
      }

      const responses = await Promise.all(
        voters.map((voter) => vote(voter, { post_id: postId, dir: 1 }).then((response) => response)),
      );

      expect(responses.map((response) => response.status)).toEqual(Array(20).fill(201));
      expect(await votesCountOf(postId, alice)).toBe(20);
      expect(await voteRowsFor(postId)).toBe(20);
    });
  });

  describe('deleting the post', () => {
    it("removes the post's votes rows", async () => {
      const postId = await createPost(alice);
      const otherPostId = await createPost(alice);
      await vote(alice, { post_id: postId, dir: 1 }).expect(201);
      await vote(bob, { post_id: postId, dir: 1 }).expect(201);
      await vote(bob, { post_id: otherPostId, dir: 1 }).expect(201);
      expect(await voteRowsFor(postId)).toBe(2);

      await t.http().delete(`/posts/${postId}`).set(alice.auth).expect(204);

      expect(await voteRowsFor(postId)).toBe(0);
      expect(await voteRowsFor(otherPostId)).toBe(1);
    });
  });
});
