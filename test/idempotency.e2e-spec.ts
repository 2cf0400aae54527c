import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { requestHash } from '../src/idempotency/idempotency.interceptor';
import { IdempotencyService } from '../src/idempotency/idempotency.service';
import { createTestApp, createTestApps, expectProblem, registerUser, TestApp, TestUser } from './support/test-app';

const KEY = 'Idempotency-Key';
const REPLAYED = 'idempotent-replayed';

describe('Idempotency keys', () => {
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

  function createPost(user: TestUser, body: object, key?: string): request.Test {
    const test = t.http().post('/posts').set(user.auth);
    return (key === undefined ? test : test.set(KEY, key)).send(body);
  }

  async function postsTitled(title: string): Promise<{ id: number; owner_id: number }[]> {
    return (await t.db.query('SELECT id, owner_id FROM posts WHERE title = $1 ORDER BY id', [title])).rows;
  }

  async function keyRows(user: TestUser): Promise<{ key: string; completed_at: Date | null }[]> {
    return (await t.db.query('SELECT key, completed_at FROM idempotency_keys WHERE user_id = $1', [user.id])).rows;
  }

  function newTitle(): string {
    return `Idempotent ${randomUUID()}`;
  }

  it('replays the first answer (status, body, Location) with Idempotent-Replayed: true and no second post', async () => {
    const key = randomUUID();
    const body = { title: newTitle(), content: 'Once only' };
    const first = await createPost(alice, body, key).expect(201);
    expect(first.headers[REPLAYED]).toBeUndefined();
    expect(first.headers.location).toBe(`/posts/${first.body.id}`);

    const again = await createPost(alice, body, key).expect(201);
    expect(again.headers[REPLAYED]).toBe('true');
    expect(again.headers.location).toBe(first.headers.location);
    expect(again.text).toBe(first.text);
    expect(await postsTitled(body.title)).toHaveLength(1);
  });

  it('treats a body with its fields in another order as the same request', async () => {
    const key = randomUUID();
    const title = newTitle();
    const first = await createPost(alice, { title, content: 'Order', published: true }, key).expect(201);
    const again = await createPost(alice, { published: true, content: 'Order', title }, key).expect(201);
    expect(again.headers[REPLAYED]).toBe('true');
    expect(again.body.id).toBe(first.body.id);
  });

  it('without the header changes nothing: two requests, two posts', async () => {
    const body = { title: newTitle(), content: 'Twice' };
    const first = await createPost(alice, body).expect(201);
    const second = await createPost(alice, body).expect(201);
    expect(second.headers[REPLAYED]).toBeUndefined();
    expect(second.body.id).not.toBe(first.body.id);
    expect(await postsTitled(body.title)).toHaveLength(2);
  });

  it('keeps keys per user: another user with the same key gets their own post', async () => {
    const key = randomUUID();
    const body = { title: newTitle(), content: 'Same key, two users' };
    const mine = await createPost(alice, body, key).expect(201);
    const theirs = await createPost(bob, body, key).expect(201);
    expect(theirs.headers[REPLAYED]).toBeUndefined();
    expect(theirs.body.id).not.toBe(mine.body.id);
    expect((await postsTitled(body.title)).map((post) => post.owner_id)).toEqual([alice.id, bob.id]);
  });

  it('answers 422 for the same key with a different body, and writes nothing', async () => {
    const key = randomUUID();
    const title = newTitle();
    await createPost(alice, { title, content: 'First' }, key).expect(201);
    const other = await createPost(alice, { title, content: 'Second' }, key);
    expectProblem(other, 422);
    expect(other.body.detail).toMatch(/Idempotency-Key/);
    expect(await postsTitled(title)).toHaveLength(1);
  });

  it('answers 422 for the same key on another route', async () => {
    const key = randomUUID();
    const post = await createPost(alice, { title: newTitle(), content: 'A post' }, key).expect(201);
    const comment = await t
      .http()
      .post(`/posts/${post.body.id}/comments`)
      .set(alice.auth)
      .set(KEY, key)
      .send({ title: newTitle(), content: 'A post' });
    expectProblem(comment, 422);
  });

  it('replays POST /vote (201 and 200) instead of voting again', async () => {
    const post = await createPost(bob, { title: newTitle(), content: 'Vote on me' }).expect(201);
    const vote = (dir: number, key: string) =>
      t.http().post('/vote').set(alice.auth).set(KEY, key).send({ post_id: post.body.id, dir });
    const addKey = randomUUID();
    const added = await vote(1, addKey).expect(201);
    // Carried out again, a second vote would be 409.
    const addedAgain = await vote(1, addKey).expect(201);
    expect(addedAgain.headers[REPLAYED]).toBe('true');
    expect(addedAgain.headers.location).toBe(added.headers.location);
    expect(addedAgain.body).toEqual(added.body);

    const removeKey = randomUUID();
    await vote(0, removeKey).expect(200);
    await vote(1, randomUUID()).expect(201);
    const removedAgain = await vote(0, removeKey).expect(200);
    expect(removedAgain.headers[REPLAYED]).toBe('true');
    expect(removedAgain.body).toEqual({ message: 'Vote removed' });
    // The replay did not remove the vote added since.
    const votes = await t.db.query('SELECT 1 FROM votes WHERE post_id = $1 AND user_id = $2', [post.body.id, alice.id]);
    expect(votes.rowCount).toBe(1);
  });

  it('replays POST /posts/{id}/comments with no second comment', async () => {
    const post = await createPost(bob, { title: newTitle(), content: 'Comment on me' }).expect(201);
    const comment = (key: string) =>
      t.http().post(`/posts/${post.body.id}/comments`).set(alice.auth).set(KEY, key).send({ content: 'Just once' });
    const key = randomUUID();
    const first = await comment(key).expect(201);
    const again = await comment(key).expect(201);
    expect(again.headers[REPLAYED]).toBe('true');
    expect(again.headers.location).toBe(first.headers.location);
    expect(again.body).toEqual(first.body);
    const rows = await t.db.query('SELECT 1 FROM comments WHERE post_id = $1', [post.body.id]);
    expect(rows.rowCount).toBe(1);
  });

  it('carries 50 parallel requests with one key out once: 201 (first or replayed) or 409, never more', async () => {
    const key = randomUUID();
    const body = { title: newTitle(), content: 'A race' };
    const answers = await Promise.all(Array.from({ length: 50 }, () => createPost(alice, body, key)));
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status !== 201 && status !== 409)).toEqual([]);
    const created = answers.filter((answer) => answer.status === 201);
    expect(created.filter((answer) => answer.headers[REPLAYED] === undefined)).toHaveLength(1);
    expect(new Set(created.map((answer) => answer.body.id)).size).toBe(1);
    for (const conflict of answers.filter((answer) => answer.status === 409)) {
      expectProblem(conflict, 409);
      expect(conflict.headers['retry-after']).toBe('1');
    }
    expect(await postsTitled(body.title)).toHaveLength(1);
  });

  it.each([
    ['empty', ''],
    ['longer than 255 characters', 'k'.repeat(256)],
    ['with a tab', 'a\tb'],
    ['not ASCII', 'caf\u00e9'],
  ])('answers 422 naming the header for a key %s, and writes nothing', async (_name, key) => {
    const title = newTitle();
    const answer = await createPost(alice, { title, content: 'Bad key' }, key);
    expectProblem(answer, 422);
    expect(answer.body.errors).toEqual([expect.objectContaining({ field: 'Idempotency-Key' })]);
    expect(await postsTitled(title)).toHaveLength(0);
  });

  it('accepts a key of 255 printable characters', async () => {
    // HTTP trims white space at the ends of a header value: the space goes inside.
    const key = `a !~${'x'.repeat(251)}`;
    expect(key).toHaveLength(255);
    await createPost(alice, { title: newTitle(), content: 'Long key' }, key).expect(201);
    expect((await keyRows(alice)).map((row) => row.key)).toContain(key);
  });

  it('forgets the key of a request that failed, so the corrected retry with the same key runs', async () => {
    const key = randomUUID();
    const title = newTitle();
    expectProblem(await createPost(alice, { title, content: '' }, key), 422);
    expect((await keyRows(alice)).map((row) => row.key)).not.toContain(key);
    const corrected = await createPost(alice, { title, content: 'Now with content' }, key).expect(201);
    expect(corrected.headers[REPLAYED]).toBeUndefined();
    expect(await postsTitled(title)).toHaveLength(1);

    const commentKey = randomUUID();
    const missing = await t
      .http()
      .post('/posts/2147483647/comments')
      .set(alice.auth)
      .set(KEY, commentKey)
      .send({ content: 'On nothing' });
    expectProblem(missing, 404);
    expect((await keyRows(alice)).map((row) => row.key)).not.toContain(commentKey);
  });

  it('answers 409 with Retry-After while the first request is still running', async () => {
    const key = randomUUID();
    const body = { title: newTitle(), content: 'Running' };
    await t.db.query('INSERT INTO idempotency_keys (user_id, key, request_hash) VALUES ($1, $2, $3)', [
      alice.id,
      key,
      requestHash('POST', '/posts', body),
    ]);
    const answer = await createPost(alice, body, key);
    expectProblem(answer, 409);
    expect(answer.headers['retry-after']).toBe('1');
    expect(await postsTitled(body.title)).toHaveLength(0);
  });

  it('lets a retry take over a claim left unfinished for over a minute (an instance that died)', async () => {
    const key = randomUUID();
    const body = { title: newTitle(), content: 'Taken over' };
    await t.db.query(
      `INSERT INTO idempotency_keys (user_id, key, request_hash, created_at)
       VALUES ($1, $2, $3, now() - interval '2 minutes')`,
      [alice.id, key, requestHash('POST', '/posts', body)],
    );
    const answer = await createPost(alice, body, key).expect(201);
    expect(answer.headers[REPLAYED]).toBeUndefined();
    expect(await postsTitled(body.title)).toHaveLength(1);
    expect((await keyRows(alice)).find((row) => row.key === key)?.completed_at).not.toBeNull();
    const again = await createPost(alice, body, key).expect(201);
    expect(again.headers[REPLAYED]).toBe('true');
    expect(again.body.id).toBe(answer.body.id);
  });

  it('runs a request again once its key is older than 24 hours', async () => {
    const key = randomUUID();
    const body = { title: newTitle(), content: 'A day later' };
    await createPost(alice, body, key).expect(201);
    await t.db.query(
      `UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE user_id = $1 AND key = $2`,
      [alice.id, key],
    );
    const later = await createPost(alice, body, key).expect(201);
    expect(later.headers[REPLAYED]).toBeUndefined();
    expect(await postsTitled(body.title)).toHaveLength(2);
  });

  it('the hourly cleanup deletes keys older than 24 hours and keeps the others', async () => {
    const [oldKey, recentKey] = [randomUUID(), randomUUID()];
    await t.db.query(
      `INSERT INTO idempotency_keys (user_id, key, request_hash, status_code, response_body, created_at, completed_at)
       VALUES ($1, $2, $4, 201, '{}', now() - interval '25 hours', now() - interval '25 hours'),
              ($1, $3, $4, 201, '{}', now() - interval '23 hours', now() - interval '23 hours')`,
      [bob.id, oldKey, recentKey, 'a'.repeat(64)],
    );
    expect(await t.app.get(IdempotencyService).removeOldKeys()).toBeGreaterThanOrEqual(1);
    const keys = (await keyRows(bob)).map((row) => row.key);
    expect(keys).not.toContain(oldKey);
    expect(keys).toContain(recentKey);
  });
});

describe('Idempotency keys on two instances', () => {
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    [a, b] = await createTestApps(2);
  });

  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
  });

  it('replays on the second instance the answer the first gave', async () => {
    const user = await registerUser(a);
    const key = randomUUID();
    const body = { title: `Two instances ${key}`, content: 'Shared keys' };
    const first = await a.http().post('/posts').set(user.auth).set(KEY, key).send(body).expect(201);
    const again = await b.http().post('/posts').set(user.auth).set(KEY, key).send(body).expect(201);
    expect(again.headers[REPLAYED]).toBe('true');
    expect(again.headers.location).toBe(first.headers.location);
    expect(again.body).toEqual(first.body);
    const rows = await a.db.query('SELECT 1 FROM posts WHERE title = $1', [body.title]);
    expect(rows.rowCount).toBe(1);
  });
});
