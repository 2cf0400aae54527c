import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { createTestApp, expectProblem, registerUser, TestApp } from './support/test-app';

type OpenApiOperation = {
  security?: Record<string, string[]>[];
  responses?: Record<string, { content?: Record<string, unknown> }>;
};
type OpenApiDocument = {
  openapi: string;
  paths: Record<string, Record<string, OpenApiOperation>>;
  security?: Record<string, string[]>[];
  components?: { securitySchemes?: Record<string, any> };
};

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** The operations open without a token; every other one must declare a security requirement. */
const PUBLIC_OPERATIONS = [
  'GET /',
  'POST /users',
  'POST /login',
  'POST /auth/refresh',
  'POST /auth/verify-email',
  'GET /auth/verify-email',
  'POST /auth/password-reset',
  'GET /auth/password-reset',
  'POST /auth/password-reset/confirm',
  'POST /auth/password-reset/page',
  'GET /health',
  'GET /health/ready',
];
/** The pages the links in mails open: their own outcomes (400, 422) are pages a person reads. */
const PAGE_ERRORS = [
  'GET /auth/verify-email 400',
  'GET /auth/password-reset 400',
  'POST /auth/password-reset/page 400',
  'POST /auth/password-reset/page 422',
];

function operationsOf(document: OpenApiDocument): [string, OpenApiOperation][] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => HTTP_METHODS.includes(method))
      .map(([method, operation]): [string, OpenApiOperation] => [`${method.toUpperCase()} ${path}`, operation]),
  );
}

/** The same-origin paths of the scripts and style sheets an HTML page loads, resolved as a browser on `pagePath` does. */
function assetPathsOf(html: string, pagePath: string): string[] {
  const references = [
    ...[...html.matchAll(/<script\b[^>]*\bsrc\s*=\s*["']([^"']+)["']/gi)].map((match) => match[1]),
    ...[...html.matchAll(/<link\b[^>]*\bhref\s*=\s*["']([^"']+)["'][^>]*>/gi)]
      .filter((match) => /rel\s*=\s*["']stylesheet["']/i.test(match[0]))
      .map((match) => match[1]),
  ];
  const page = new URL(pagePath, 'http://app.invalid');
  return references.map((reference) => {
    const url = new URL(reference, page);
    expect(url.origin).toBe(page.origin);
    return `${url.pathname}${url.search}`;
  });
}

describe('Service routes', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(async () => {
    await t.close();
  });

  describe('GET /', () => {
    it('names the service and its version and links the docs and the health check, without a token', async () => {
      const { version } = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as {
        version: string;
      };
      const response = await t.http().get('/').expect(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.body).toEqual({
        name: 'Posts API',
        version,
        message: expect.stringContaining('POST /login'),
        links: { docs: '/docs', redoc: '/redoc', openapi: '/openapi.json', health: '/health' },
      });
      for (const path of Object.values(response.body.links as Record<string, string>)) {
        await t.http().get(path).expect(200);
      }
    });
  });

  describe('GET /health', () => {
    it('answers 200 {"status": "ok", "database": "up"} as application/json without a token', async () => {
      const response = await t.http().get('/health');

      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.body).toEqual({ status: 'ok', database: 'up' });
    });

    it('answers 200 on /health/ with a trailing slash directly, without a redirect', async () => {
      const response = await t.http().get('/health/').redirects(0);

      expect(response.status).toBe(200);
      expect(response.headers.location).toBeUndefined();
      expect(response.body).toEqual({ status: 'ok', database: 'up' });
    });

    it('ignores a bad token, because the route is public', async () => {
      const response = await t.http().get('/health').set({ Authorization: 'Bearer not-a-jwt' });

      expect(response.status).toBe(200);
      expect(response.body).toEqual({ status: 'ok', database: 'up' });
    });
  });

  describe('GET /openapi.json', () => {
    let response: request.Response;
    let document: OpenApiDocument;

    beforeAll(async () => {
      response = await t.http().get('/openapi.json');
      document = response.body as OpenApiDocument;
    });

    it('answers 200 with an OpenAPI 3 document as application/json, without a token', () => {
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(document.openapi).toMatch(/^3\./);
    });

    it.each(['/users', '/users/me', '/users/{id}', '/login', '/posts', '/posts/{id}', '/vote', '/health'])(
      'documents the path %s',
      (path) => {
        expect(Object.keys(document.paths)).toContain(path);
      },
    );

    it('documents the operations of the contract on their paths', () => {
      const operations = operationsOf(document).map(([name]) => name);

      expect(operations).toEqual(
        expect.arrayContaining([
          'POST /users',
          'GET /users/me',
          'GET /users/{id}',
          'POST /login',
          'GET /posts',
          'POST /posts',
          'GET /posts/{id}',
          'PUT /posts/{id}',
          'PATCH /posts/{id}',
          'DELETE /posts/{id}',
          'POST /vote',
          'GET /posts/{id}/comments',
          'POST /posts/{id}/comments',
          'GET /comments/{id}',
          'PATCH /comments/{id}',
          'DELETE /comments/{id}',
          'GET /health',
        ]),
      );
    });

    it('puts a security requirement on every operation except POST /users, POST /login, POST /auth/refresh and the health checks', () => {
      const unprotected = operationsOf(document)
        .filter(([, operation]) => (operation.security ?? document.security ?? []).length === 0)
        .map(([name]) => name);

      expect(unprotected.sort()).toEqual([...PUBLIC_OPERATIONS].sort());
    });

    it('puts no security requirement on POST /users, POST /login, POST /auth/refresh and the health checks', () => {
      const operations = new Map(operationsOf(document));

      for (const name of PUBLIC_OPERATIONS) {
        expect(operations.get(name)).toBeDefined();
        const security = operations.get(name)?.security ?? document.security ?? [];
        // An empty object in the list would also mean "no token needed".
        expect(security.every((requirement) => Object.keys(requirement).length === 0)).toBe(true);
      }
    });

    it('names only the oauth2 scheme in the security requirements', () => {
      const schemes = new Set(
        operationsOf(document).flatMap(([, operation]) => (operation.security ?? []).flatMap(Object.keys)),
      );

      expect([...schemes]).toEqual(['oauth2']);
    });

    it('defines an oauth2 security scheme with a password flow whose tokenUrl is /login', () => {
      const scheme = document.components?.securitySchemes?.oauth2;

      expect(scheme).toEqual(
        expect.objectContaining({
          type: 'oauth2',
          flows: expect.objectContaining({ password: expect.objectContaining({ tokenUrl: '/login' }) }),
        }),
      );
    });

    it('documents every error response with the application/problem+json content type', () => {
      const errorResponses = operationsOf(document).flatMap(([name, operation]) =>
        Object.entries(operation.responses ?? {})
          .filter(([status]) => /^[45]/.test(status))
          .map(([status, answer]) => ({ operation: `${name} ${status}`, types: Object.keys(answer.content ?? {}) })),
      );

      expect(errorResponses.length).toBeGreaterThan(0);
      for (const { operation, types } of errorResponses) {
        const expected = PAGE_ERRORS.includes(operation) ? 'text/html' : 'application/problem+json';
        expect({ operation, types }).toEqual({ operation, types: [expected] });
      }
    });

    it('documents 401 on every protected operation', () => {
      const protectedWithout401 = operationsOf(document)
        .filter(([name]) => !PUBLIC_OPERATIONS.includes(name))
        .filter(([, operation]) => !('401' in (operation.responses ?? {})))
        .map(([name]) => name);

      expect(protectedWithout401).toEqual([]);
    });
  });

  describe('GET /docs', () => {
    let response: request.Response;
    let html: string;

    beforeAll(async () => {
      response = await t.http().get('/docs').redirects(0);
      html = response.text;
    });

    it('answers 200 with the Swagger UI page as HTML, without a token', () => {
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expect(html).toMatch(/swagger-ui/i);
      expect(html).toMatch(/<div id="swagger-ui">/);
    });

    it('loads no script from an external host', () => {
      expect(html).not.toMatch(/<script\b[^>]*\bsrc\s*=\s*["']?(https?:)?\/\//i);
    });

    it('loads no style sheet or other linked asset from an external host', () => {
      expect(html).not.toMatch(/<link\b[^>]*\bhref\s*=\s*["']?(https?:)?\/\//i);
    });

    it('references the swagger-ui script and style sheet and the init script', () => {
      const assets = assetPathsOf(html, '/docs');

      expect(assets).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/swagger-ui-bundle\.js$/),
          expect.stringMatching(/swagger-ui\.css$/),
          expect.stringMatching(/swagger-ui-init\.js$/),
        ]),
      );
    });

    it('serves every script and style sheet the page references itself, with 200', async () => {
      const assets = assetPathsOf(html, '/docs');
      expect(assets.length).toBeGreaterThan(0);

      for (const asset of assets) {
        const answer = await t.http().get(asset).redirects(0);
        expect({ asset, status: answer.status }).toEqual({ asset, status: 200 });
        expect(answer.headers['content-type']).toMatch(asset.endsWith('.css') ? /^text\/css/ : /javascript/);
        expect(Number(answer.headers['content-length'] ?? answer.text.length)).toBeGreaterThan(0);
      }
    });

    it('keeps the authorization across a reload: the init script sets persistAuthorization to true', async () => {
      const initScript = assetPathsOf(html, '/docs').find((asset) => /swagger-ui-init\.js$/.test(asset));
      expect(initScript).toBeDefined();

      const answer = await t.http().get(initScript as string);

      expect(answer.status).toBe(200);
      const source = answer.text || String(answer.body);
      expect(source).toMatch(/["']?persistAuthorization["']?\s*:\s*true/);
    });

    it('points the init script at the oauth2 password flow of /login through the embedded document', async () => {
      const initScript = assetPathsOf(html, '/docs').find((asset) => /swagger-ui-init\.js$/.test(asset)) as string;

      const source = (await t.http().get(initScript)).text;

      expect(source).toMatch(/"tokenUrl"\s*:\s*"\/login"/);
    });

    it('answers 200 on /docs/ with a trailing slash directly, and serves the assets that page references', async () => {
      const answer = await t.http().get('/docs/').redirects(0);

      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toMatch(/^text\/html/);
      const assets = assetPathsOf(answer.text, '/docs/');
      expect(assets.length).toBeGreaterThan(0);
      for (const asset of assets) {
        const served = await t.http().get(asset).redirects(0);
        expect({ asset, status: served.status }).toEqual({ asset, status: 200 });
      }
    });
  });

  describe('errors and content types', () => {
    it('answers an unknown route with 404 problem+json', async () => {
      const response = await t.http().get('/nope');

      expectProblem(response, 404);
    });

    it('answers an unknown route with 404 problem+json even with a valid token', async () => {
      const user = await registerUser(t);

      const response = await t.http().get('/nope').set(user.auth);

      expectProblem(response, 404);
    });

    it('answers an unknown method on a known path with a problem+json 4xx, never a 5xx', async () => {
      const response = await t.http().delete('/health');

      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expectProblem(response, response.status);
    });

    it('answers errors as application/problem+json: a protected route without a token gives 401', async () => {
      const response = await t.http().get('/users/me');

      expectProblem(response, 401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
    });

    it('answers successes as application/json', async () => {
      const user = await registerUser(t);

      const responses = await Promise.all([
        t.http().get('/health'),
        t.http().get('/users/me').set(user.auth),
        t.http().get('/posts').set(user.auth),
      ]);

      for (const response of responses) {
        expect(response.status).toBe(200);
        expect(response.headers['content-type']).toMatch(/^application\/json/);
      }
    });
  });
});
