import { createTestApp, expectProblem, registerUser, TestApp, TestUser } from './support/test-app';

/** PUT and DELETE /posts/{id}/vote (API.md, "Votes, idempotently"): the vote as a resource. */
describe('PUT and DELETE /posts/{id}/vote', () => {
  let t: TestApp;
  let author: TestUser;
  let voter: TestUser;

  beforeAll(async () => {
    t = await createTestApp();
    author = await registerUser(t);
    voter = await registerUser(t);
  });

  afterAll(async () => {
    await t.close();
  });

  async function newPost(published = true): Promise<number> {
    const response = await t
      .http()
      .post('/posts')
      .set(author.auth)
      .send({ title: 'vote on me', content: 'c', published });
    expect(response.status).toBe(201);
    return response.body.id as number;
  }

  async function votesOn(id: number): Promise<number> {
    const response = await t.http().get(`/posts/${id}`).set(voter.auth).expect(200);
    return response.body.votes as number;
  }

  it('PUT answers 204 with no body and the vote exists, however often it is repeated', async () => {
    const id = await newPost();
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const response = await t.http().put(`/posts/${id}/vote`).set(voter.auth);
      expect(response.status).toBe(204);
      expect(response.text).toBe('');
      expect(await votesOn(id)).toBe(1);
    }
  });

  it('DELETE answers 204 and no vote is left, whether there was one or not', async () => {
    const id = await newPost();
    await t.http().delete(`/posts/${id}/vote`).set(voter.auth).expect(204);
    expect(await votesOn(id)).toBe(0);
    await t.http().put(`/posts/${id}/vote`).set(voter.auth).expect(204);
    expect(await votesOn(id)).toBe(1);
    await t.http().delete(`/posts/${id}/vote`).set(voter.auth).expect(204);
    await t.http().delete(`/posts/${id}/vote`).set(voter.auth).expect(204);
    expect(await votesOn(id)).toBe(0);
  });

  it('agrees with POST /vote: a vote put here is the one POST /vote removes', async () => {
    const id = await newPost();
    await t.http().put(`/posts/${id}/vote`).set(voter.auth).expect(204);
    expectProblem(await t.http().post('/vote').set(voter.auth).send({ post_id: id, dir: 1 }), 409);
    await t.http().post('/vote').set(voter.auth).send({ post_id: id, dir: 0 }).expect(200);
    expect(await votesOn(id)).toBe(0);
  });

  it("answers 404 for a missing post and for another user's draft, and writes nothing", async () => {
    const draft = await newPost(false);
    for (const method of ['put', 'delete'] as const) {
      expectProblem(await t.http()[method](`/posts/${draft}/vote`).set(voter.auth), 404);
      expectProblem(await t.http()[method]('/posts/2147483647/vote').set(voter.auth), 404);
    }
    const { rows } = await t.db.query('SELECT 1 FROM votes WHERE post_id = $1', [draft]);
    expect(rows).toEqual([]);
  });

  it('lets the owner vote on their own draft', async () => {
    const draft = await newPost(false);
    await t.http().put(`/posts/${draft}/vote`).set(author.auth).expect(204);
    const response = await t.http().get(`/posts/${draft}`).set(author.auth).expect(200);
    expect(response.body.votes).toBe(1);
  });

  it.each(['0', 'abc', '99999999999'])('answers 422 for the id %s', async (id) => {
    for (const method of ['put', 'delete'] as const) {
      const response = await t.http()[method](`/posts/${id}/vote`).set(voter.auth);
      expectProblem(response, 422);
      expect(response.body.errors).toEqual([{ field: 'id', message: expect.any(String) }]);
    }
  });

  it('answers 401 with WWW-Authenticate without a token', async () => {
    const id = await newPost();
    for (const method of ['put', 'delete'] as const) {
      const response = await t.http()[method](`/posts/${id}/vote`);
      expectProblem(response, 401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
    }
  });

  it('keeps exactly one vote under 20 parallel PUTs, and none under 20 parallel DELETEs', async () => {
    const id = await newPost();
    const puts = await Promise.all(Array.from({ length: 20 }, () => t.http().put(`/posts/${id}/vote`).set(voter.auth)));
    expect(puts.map((response) => response.status)).toEqual(Array(20).fill(204));
    expect(await votesOn(id)).toBe(1);
    const deletes = await Promise.all(
      Array.from({ length: 20 }, () => t.http().delete(`/posts/${id}/vote`).set(voter.auth)),
    );
    expect(deletes.map((response) => response.status)).toEqual(Array(20).fill(204));
    expect(await votesOn(id)).toBe(0);
  });

  it('answers 204 or 404, never 500, to PUTs racing the deletion of the post, and leaves no vote behind', async () => {
    for (let round = 0; round < 5; round += 1) {
      const id = await newPost();
      const answers = await Promise.all([
        t.http().delete(`/posts/${id}`).set(author.auth),
        ...Array.from({ length: 5 }, () => t.http().put(`/posts/${id}/vote`).set(voter.auth)),
      ]);
      expect(answers[0].status).toBe(204);
      for (const answer of answers.slice(1)) {
        expect([204, 404]).toContain(answer.status);
      }
      const { rows } = await t.db.query('SELECT 1 FROM votes WHERE post_id = $1', [id]);
      expect(rows).toEqual([]);
    }
  });
});

describe('PUT and DELETE /posts/{id}/vote with REQUIRE_VERIFIED_EMAIL=true', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ REQUIRE_VERIFIED_EMAIL: 'true' });
  });

  afterAll(async () => {
    await t.close();
  });

  it('answers 403 to an unverified user and writes no vote', async () => {
    const author = await registerUser(t);
    const { rows } = await t.db.query<{ id: number }>(
      `INSERT INTO posts (title, content, published, owner_id) VALUES ('t', 'c', true, $1) RETURNING id`,
      [author.id],
    );
    const voter = await registerUser(t);
    for (const method of ['put', 'delete'] as const) {
      const response = await t.http()[method](`/posts/${rows[0].id}/vote`).set(voter.auth);
      expectProblem(response, 403);
      expect(response.body.detail).toMatch(/verify/i);
    }
    const votes = await t.db.query('SELECT 1 FROM votes WHERE post_id = $1', [rows[0].id]);
    expect(votes.rows).toEqual([]);
  });
});
