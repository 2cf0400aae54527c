import { createTestApp, expectProblem, registerUser, TestApp } from './support/test-app';

/** The write positions kept for read-your-writes, by user. */
async function writePositions(t: TestApp): Promise<Map<number, string>> {
  const { rows } = await t.db.query<{ user_id: number; lsn: string }>(
    'SELECT user_id, lsn::text AS lsn FROM user_write_positions',
  );
  return new Map(rows.map((row) => [row.user_id, row.lsn]));
}

/** A post, a vote and a comment by a new user: every kind of write a replica read must not miss. */
async function writeSomething(t: TestApp) {
  const user = await registerUser(t);
  const post = await t.http().post('/posts').set(user.auth).send({ title: 'Mine', content: 'x' }).expect(201);
  await t.http().post('/vote').set(user.auth).send({ post_id: post.body.id, dir: 1 }).expect(201);
  await t.http().post(`/posts/${post.body.id}/comments`).set(user.auth).send({ content: 'Hi' }).expect(201);
  return { user, postId: post.body.id as number };
}

describe('Without DATABASE_REPLICA_URLS', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(() => t.close());

  it('records no write position and names no replica', async () => {
    const { user, postId } = await writeSomething(t);
    await t.http().get(`/posts/${postId}`).set(user.auth).expect(200);
    expect(await writePositions(t)).toEqual(new Map());
    expect((await t.http().get('/health/ready').expect(200)).body).toEqual({ status: 'ready' });
  });
});

describe('With a replica that never answers', () => {
  let t: TestApp;

  beforeAll(async () => {
    // Nothing listens on port 9 here: every connection is refused.
    t = await createTestApp({ DATABASE_REPLICA_URLS: 'postgres://reader:s3cret@127.0.0.1:9/posts' });
  });

  afterAll(() => t.close());

  it('is ready, and names the replica down without its password', async () => {
    const response = await t.http().get('/health/ready').expect(200);
    expect(response.body).toEqual({ status: 'ready', replicas: [{ url: '127.0.0.1:9/posts', state: 'down' }] });
  });

  it('answers every read from the primary', async () => {
    const { user, postId } = await writeSomething(t);
    const post = await t.http().get(`/posts/${postId}`).set(user.auth).expect(200);
    expect(post.body).toMatchObject({ id: postId, votes: 1, voted: true, comments: 1 });
    await t.http().get('/posts').set(user.auth).expect(200);
    await t.http().get(`/posts/${postId}/comments`).set(user.auth).expect(200);
    await t.http().get(`/users/${user.id}`).set(user.auth).expect(200);
  });

  it("records each user's position after a registration and after each write, and none for a refusal", async () => {
    const created = await t
      .http()
      .post('/users')
      .send({ email: 'fresh@example.com', password: 'correct horse battery staple' });
    expect((await writePositions(t)).get(created.body.id)).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);

    const { user, postId } = await writeSomething(t);
    const afterWrites = (await writePositions(t)).get(user.id);
    expect(afterWrites).toBeDefined();
    const stranger = await registerUser(t);
    const before = await writePositions(t);
    expectProblem(await t.http().delete(`/posts/${postId}`).set(stranger.auth), 403);
    expect(await writePositions(t)).toEqual(before);

    await t.http().delete(`/posts/${postId}`).set(user.auth).expect(204);
    const afterDelete = (await writePositions(t)).get(user.id) as string;
    const [{ moved }] = (
      await t.db.query<{ moved: boolean }>('SELECT $1::pg_lsn > $2::pg_lsn AS moved', [afterDelete, afterWrites])
    ).rows;
    expect(moved).toBe(true);
  });
});
