/**
 * A typed client of the Posts API: openapi-fetch over the types that openapi-typescript
 * generates from `openapi.json` (`npm run client` writes `schema.d.ts`; never edit it).
 *
 *   const api = createPostsApiClient({ baseUrl: 'http://localhost:8000' });
 *   const tokens = await logIn(api, 'alice@example.com', 'correct horse battery staple');
 *   const { data } = await api.GET('/posts', { params: { query: { limit: 5 } }, headers: bearer(tokens) });
 */
import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { components, operations, paths } from './schema';

export type { components, operations, paths };

type Schemas = components['schemas'];
export type User = Schemas['User'];
export type NewUser = Schemas['NewUser'];
export type Post = Schemas['Post'];
export type NewPost = Schemas['NewPost'];
export type PostReplacement = Schemas['PostReplacement'];
export type PostChanges = Schemas['PostChanges'];
export type Vote = Schemas['Vote'];
export type Tokens = Schemas['Tokens'];
export type Session = Schemas['Session'];
export type Problem = Schemas['Problem'];
export type FieldError = Schemas['FieldError'];

export type PostsApiClient = Client<paths>;

export function createPostsApiClient(options: ClientOptions): PostsApiClient {
  return createClient<paths>(options);
}

/** The header every protected route needs. */
export function bearer(tokens: Pick<Tokens, 'access_token'>): { Authorization: string } {
  return { Authorization: `Bearer ${tokens.access_token}` };
}

/** `POST /login` with the OAuth2 password form, as Swagger UI's "Authorize" sends it. */
export async function logIn(api: PostsApiClient, email: string, password: string): Promise<Tokens> {
  const { data, error, response } = await api.POST('/login', {
    body: { username: email, password },
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    bodySerializer: (body) => new URLSearchParams(body as Record<string, string>).toString(),
  });
  if (!data) {
    throw new Error(`POST /login answered ${response.status}: ${error?.detail ?? 'no body'}`);
  }
  return data;
}
