import {
  bearer,
  createPostsApiClient,
  logIn,
  type Post,
  type PostsApiClient,
  type Problem,
  type Tokens,
  type User,
} from '../client';
import { createTestApp, TEST_PASSWORD, TestApp } from './support/test-app';

/** True only when A and B are the same type: a field added, dropped or renamed fails to compile. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

// The wire shapes of the API contract against the types generated from
// openapi.json: `npm run lint` (tsc) fails as soon as the two drift apart.
const userFields: Same<keyof User, 'id' | 'username' | 'email' | 'created_at'> = true;
const postFields: Same<
  keyof Post,
  | 'id'
  | 'title'
  | 'content'
  | 'published'
  | 'created_at'
  | 'updated_at'
  | 'owner_id'
  | 'owner'
  | 'votes'
  | 'voted'
  | 'comments'
> = true;
const tokenFields: Same<
  keyof Tokens,
  'access_token' | 'token_type' | 'expires_in' | 'refresh_token' | 'refresh_expires_in'
> = true;
const problemFields: Same<keyof Problem, 'type' | 'title' | 'status' | 'detail' | 'errors'> = true;

describe('the typed client (client/, generated from openapi.json) against the running app', () => {
  let t: TestApp;
  let api: PostsApiClient;

  beforeAll(async () => {
    t = await createTestApp();
    await t.app.listen(0, '127.0.0.1');
    api = createPostsApiClient({ baseUrl: await t.app.getUrl() });
  });

  afterAll(async () => {
    await t.close();
  });

  it('compiles against the contract', () => {
    expect([userFields, postFields, tokenFields, problemFields]).toEqual([true, true, true, true]);
  });

  it('registers, logs in with the form, writes a post, votes on it and reads it back', async () => {
    const email = 'typed-client@example.com';

    const registered = await api.POST('/users', { body: { email, password: TEST_PASSWORD } });
    expect(registered.response.status).toBe(201);
    expect(registered.response.headers.get('location')).toBe(`/users/${registered.data?.id}`);

    const tokens = await logIn(api, email, TEST_PASSWORD);
    expect(tokens.token_type).toBe('bearer');

    const me = await api.GET('/users/me', { headers: bearer(tokens) });
    expect(me.data).toEqual({
      id: registered.data?.id,
      username: null,
      email,
      created_at: registered.data?.created_at,
      role: 'user',
      email_verified: false,
    });

    const written = await api.POST('/posts', {
      headers: bearer(tokens),
      body: { title: 'Typed', content: 'Sent by the generated client' },
    });
    expect(written.response.status).toBe(201);
    const postId = written.data?.id as number;

    const vote = await api.POST('/vote', { headers: bearer(tokens), body: { post_id: postId, dir: 1 } });
    expect(vote.data).toEqual({ message: 'Vote added' });

    const read = await api.GET('/posts/{id}', { headers: bearer(tokens), params: { path: { id: postId } } });
    const post: Post | undefined = read.data;
    expect(post).toEqual({
      id: postId,
      title: 'Typed',
      content: 'Sent by the generated client',
      published: true,
      created_at: expect.any(String),
      updated_at: read.data?.created_at,
      owner_id: me.data?.id,
      owner: { id: me.data?.id, username: null, email, created_at: me.data?.created_at },
      votes: 1,
      voted: true,
      comments: 0,
    });

    const listed = await api.GET('/posts', {
      headers: bearer(tokens),
      params: { query: { limit: 5, search: 'typed' } },
    });
    expect(listed.data?.map((entry) => entry.id)).toEqual([postId]);
  });

  it('gets the problem+json of the contract as a typed error: a 401 that says how to get a token', async () => {
    const { data, error, response } = await api.GET('/users/me');

    expect(response.status).toBe(401);
    expect(data).toBeUndefined();
    expect(error?.detail).toContain('Authorization: Bearer <access_token>');
    expect(error?.detail).toContain('POST /login');
  });

  it('gets a 422 whose errors name the bad field', async () => {
    const { error, response } = await api.POST('/users', {
      body: { email: 'not-an-address', password: TEST_PASSWORD },
    });

    expect(response.status).toBe(422);
    expect(error?.errors).toEqual([{ field: 'email', message: expect.any(String) }]);
  });
});
