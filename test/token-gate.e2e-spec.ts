import { JwtAuthGuard } from '../src/auth/jwt-auth.guard';
import { MISSING_TOKEN_DETAIL } from '../src/common/identity/authenticated-user';
import { createTestApp, expectProblem, registerUser, type TestApp } from './support/test-app';

type Operation = { security?: Record<string, string[]>[] };
type Document = { paths: Record<string, Record<string, Operation>>; security?: Record<string, string[]>[] };

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

/**
 * The entrance answers a request without a bearer token to a route that needs one before
 * Nest (src/entrance/token-gate.ts): these tests hold it to the guard's decision, route by
 * route, and show that the guard is not reached for those requests only.
 */
describe('The token gate', () => {
  let t: TestApp;
  let document: Document;
  let canActivate: jest.SpyInstance;

  beforeAll(async () => {
    t = await createTestApp();
    document = (await t.http().get('/openapi.json')).body as Document;
  });

  beforeEach(() => {
    canActivate = jest.spyOn(JwtAuthGuard.prototype, 'canActivate');
  });

  afterEach(() => {
    canActivate.mockRestore();
  });

  afterAll(async () => {
    await t.close();
  });

  const operations = () =>
    Object.entries(document.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([method]) => METHODS.includes(method))
        .map(([method, operation]) => ({
          method,
          path,
          url: path.replace(/\{[^}]+\}/g, '1'),
          needsToken: (operation.security ?? document.security ?? []).length > 0,
        })),
    );

  it('answers 401 without a token on exactly the operations the document protects, without reaching the guard', async () => {
    const protectedOnes = operations().filter((operation) => operation.needsToken);
    expect(protectedOnes.length).toBeGreaterThan(20);
    for (const { method, path, url } of protectedOnes) {
      canActivate.mockClear();
      const bare = t.http()[method as 'get'](url);
      const response = await (['get', 'delete'].includes(method) ? bare : bare.send({}));
      expectProblem(response, 401);
      expect({ operation: `${method} ${path}`, detail: response.body.detail }).toEqual({
        operation: `${method} ${path}`,
        detail: MISSING_TOKEN_DETAIL,
      });
      expect(response.headers['www-authenticate']).toBe('Bearer');
      expect(response.headers['x-ratelimit-limit']).toBeDefined();
      expect(response.headers['x-request-id']).toBeDefined();
      expect(canActivate).not.toHaveBeenCalled();
    }
  });

  it('lets every public operation through to Nest without a token (never a 401)', async () => {
    const open = operations().filter((operation) => !operation.needsToken);
    expect(open.length).toBeGreaterThan(5);
    for (const { method, path, url } of open) {
      canActivate.mockClear();
      const bare = t.http()[method as 'get'](url);
      const response = await (['get', 'delete'].includes(method) ? bare : bare.send({}));
      expect({ operation: `${method} ${path}`, status: response.status }).not.toEqual({
        operation: `${method} ${path}`,
        status: 401,
      });
      expect(canActivate).toHaveBeenCalled();
    }
  });

  it('leaves every request with a bearer token, good or bad, to the guard', async () => {
    const user = await registerUser(t);
    canActivate.mockClear();
    const good = await t.http().get('/users/me').set(user.auth);
    expect(good.status).toBe(200);
    expect(canActivate).toHaveBeenCalledTimes(1);

    const forged = await t.http().get('/users/me').set('Authorization', 'Bearer not.a.token');
    expectProblem(forged, 401);
    expect(forged.body.detail).not.toBe(MISSING_TOKEN_DETAIL);
    expect(canActivate).toHaveBeenCalledTimes(2);
  });

  it('answers an unknown route 404 and a bad JSON body 400 as before, token or not', async () => {
    expectProblem(await t.http().get('/no-such-route'), 404);
    const badJson = await t.http().post('/posts').set('Content-Type', 'application/json').send('{bad');
    expectProblem(badJson, 400);
  });
});
