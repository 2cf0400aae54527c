import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { createTestApp, registerUser, TestApp, TestUser } from './support/test-app';

type Example = Record<string, unknown>;
type DocumentedResponse = { headers?: Record<string, unknown>; content?: Record<string, { example?: Example }> };
type OpenApiDocument = {
  paths: Record<string, Record<string, { responses: Record<string, DocumentedResponse> }>>;
};

const COMMITTED = join(__dirname, '..', 'openapi.json');

describe('Docs', () => {
  let t: TestApp;
  let document: OpenApiDocument;
  let alice: TestUser;

  /** The body the service sends is the example the docs show, word for word, with the headers they name. */
  function expectDocumented(response: request.Response, method: string, path: string): void {
    const documented = document.paths[path]?.[method]?.responses[String(response.status)];
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body).toEqual(documented?.content?.['application/problem+json']?.example);
    const sent = Object.keys(response.headers);
    for (const header of Object.keys(documented?.headers ?? {})) {
      expect(sent).toContain(header.toLowerCase());
    }
  }

  beforeAll(async () => {
    t = await createTestApp();
    document = (await t.http().get('/openapi.json')).body as OpenApiDocument;
    // The examples name post 7, user 7 and session 3, which this file never creates.
    alice = await registerUser(t);
  });

  afterAll(async () => {
    await t.close();
  });

  describe('GET /openapi.json', () => {
    it('serves exactly the committed openapi.json (npm run openapi writes it)', () => {
      expect(document).toEqual(JSON.parse(readFileSync(COMMITTED, 'utf8')));
    });
  });

  describe('the documented error examples are what the service answers', () => {
    it('401 without a token names the header and POST /login', async () => {
      const response = await t.http().get('/users/me');

      expectDocumented(response, 'get', '/users/me');
      expect(response.body.detail).toContain('Authorization: Bearer <access_token>');
      expect(response.body.detail).toContain('POST /login');
    });

    it('401 for a wrong password at POST /login', async () => {
      const response = await t
        .http()
        .post('/login')
        .type('form')
        .send({ username: alice.email, password: 'wrong one' });

      expectDocumented(response, 'post', '/login');
    });

    it('401 for an unknown refresh token', async () => {
      const response = await t.http().post('/auth/refresh').send({ refresh_token: 'not-a-token-we-issued' });

      expectDocumented(response, 'post', '/auth/refresh');
    });

    it('409 for a taken e-mail, 422 for a bad one, 400 for broken JSON and 415 for text', async () => {
      const taken = await t.http().post('/users').send({ email: alice.email, password: alice.password });
      const invalid = await t.http().post('/users').send({ email: 'not-an-address', password: alice.password });
      const broken = await t.http().post('/users').set('Content-Type', 'application/json').send('{"email":');
      const text = await t.http().post('/users').set('Content-Type', 'text/plain').send('hello');

      expect([taken.status, invalid.status, broken.status, text.status]).toEqual([409, 422, 400, 415]);
      for (const response of [taken, invalid, broken, text]) {
        expectDocumented(response, 'post', '/users');
      }
    });

    it('404 and 422 of GET /users/{id}', async () => {
      const missing = await t.http().get('/users/7').set(alice.auth);
      const malformed = await t.http().get('/users/0').set(alice.auth);

      expect([missing.status, malformed.status]).toEqual([404, 422]);
      expectDocumented(missing, 'get', '/users/{id}');
      expectDocumented(malformed, 'get', '/users/{id}');
    });

    it('403 for a wrong current password', async () => {
      const response = await t
        .http()
        .put('/users/me/password')
        .set(alice.auth)
        .send({ current_password: 'not the password', new_password: 'a brand new password' });

      expectDocumented(response, 'put', '/users/me/password');
    });

    it('404 for a post that does not exist', async () => {
      const response = await t.http().get('/posts/7').set(alice.auth);

      expectDocumented(response, 'get', '/posts/{id}');
    });

    it('404 for a session that is not yours', async () => {
      const response = await t.http().delete('/auth/sessions/3').set(alice.auth);

      expectDocumented(response, 'delete', '/auth/sessions/{id}');
    });
  });

  describe('the documented rate-limit headers are what the service sends', () => {
    /** The X-RateLimit-* headers the docs name for an answer, and those the answer carries, lower-case. */
    function rateLimitHeaders(response: request.Response, method: string, path: string) {
      const documented = Object.keys(document.paths[path]?.[method]?.responses[String(response.status)]?.headers ?? {});
      return {
        documented: documented.map((name) => name.toLowerCase()).filter((name) => name.startsWith('x-ratelimit-')),
        sent: Object.keys(response.headers).filter((name) => name.startsWith('x-ratelimit-')),
      };
    }

    it('on a success and on an error of a protected route', async () => {
      const success = await t.http().get('/users/me').set(alice.auth);
      const error = await t.http().get('/posts/7').set(alice.auth);

      expect([success.status, error.status]).toEqual([200, 404]);
      for (const [response, path] of [
        [success, '/users/me'],
        [error, '/posts/{id}'],
      ] as const) {
        const { documented, sent } = rateLimitHeaders(response, 'get', path);
        expect(documented).toHaveLength(3);
        expect(sent.sort()).toEqual(documented.sort());
      }
    });

    it('on none of the health checks', async () => {
      const response = await t.http().get('/health');

      expect(rateLimitHeaders(response, 'get', '/health')).toEqual({ documented: [], sent: [] });
    });
  });

  describe('GET /redoc', () => {
    let page: request.Response;

    beforeAll(async () => {
      page = await t.http().get('/redoc').redirects(0);
    });

    it('answers 200 HTML without a token, with the ReDoc element pointing at /openapi.json', () => {
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.text).toMatch(/<redoc spec-url="\/openapi.json"/);
    });

    it('loads only its own scripts and style sheets', () => {
      const references = [...page.text.matchAll(/<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"/g)].map(
        (match) => match[1],
      );

      expect(references).toEqual(expect.arrayContaining(['/redoc/redoc.standalone.js']));
      for (const reference of references) {
        expect(reference).toMatch(/^\/[^/]/);
      }
    });

    it('forbids every other origin through its Content-Security-Policy', () => {
      const policy = String(page.headers['content-security-policy']);

      expect(policy).toContain("default-src 'none'");
      expect(policy).toContain("script-src 'self'");
      expect(policy).toContain("img-src 'self' data:");
      expect(policy).not.toMatch(/https?:/);
    });

    it('serves the bundle of the installed redoc package as JavaScript', async () => {
      const bundle = await t.http().get('/redoc/redoc.standalone.js').buffer(true);

      expect(bundle.status).toBe(200);
      expect(bundle.headers['content-type']).toMatch(/^application\/javascript/);
      expect(bundle.headers['content-length']).toBe(
        String(readFileSync(require.resolve('redoc/bundles/redoc.standalone.js')).length),
      );
    });

    it('answers /redoc/ with a trailing slash directly, without a redirect', async () => {
      const response = await t.http().get('/redoc/').redirects(0);

      expect(response.status).toBe(200);
      expect(response.text).toBe(page.text);
    });
  });
});
