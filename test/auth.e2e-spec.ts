import { createHmac } from 'node:crypto';
import type { Response } from 'supertest';
import {
  createTestApp,
  expectProblem,
  registerUser,
  TestApp,
  TestUser,
  TEST_JWT_SECRET,
  TEST_PASSWORD,
} from './support/test-app';
import { craftToken, decodePart, encodePart } from './support/tokens';

const ACCESS_TOKEN_SECONDS = 1800;
const INVALID_TOKEN = 'Bearer error="invalid_token"';

function unsignedToken(payload: object): string {
  return `${encodePart({ alg: 'none', typ: 'JWT' })}.${encodePart(payload)}.`;
}

/** The claims the service itself puts in an access token for this user, valid for 30 minutes. */
/** The claims of a real token of this user (its session id included), or of a made-up user. */
function claimsFor(
  user: Pick<TestUser, 'id'> & { token?: string },
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  const sid = user.token ? decodePart(user.token, 1).sid : 1;
  return { sub: String(user.id), user_id: user.id, sid, iat: now, exp: now + ACCESS_TOKEN_SECONDS, ...overrides };
}

function expectInvalidToken(response: Response): void {
  expectProblem(response, 401);
  expect(response.headers['www-authenticate']).toBe(INVALID_TOKEN);
}

describe('Login and tokens', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(async () => {
    await t.close();
  });

  const loginWithForm = (fields: Record<string, string>) => t.http().post('/login').type('form').send(fields);

  describe('POST /login', () => {
    it('answers 200 with a bearer token and Cache-Control: no-store to the OAuth2 form', async () => {
      const user = await registerUser(t);
      const response = await loginWithForm({ username: user.email, password: TEST_PASSWORD });
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.headers['cache-control']).toBe('no-store');
      // Only the access-token fields are checked: the sessions section adds refresh_token fields.
      expect(response.body).toEqual(
        expect.objectContaining({
          access_token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
          token_type: 'bearer',
          expires_in: ACCESS_TOKEN_SECONDS,
        }),
      );
      expect(response.text).not.toContain(TEST_PASSWORD);
      expect(response.text).not.toContain('$2');
    });

    it('gives a token that opens GET /users/me for the user who logged in', async () => {
      const user = await registerUser(t);
      const login = await loginWithForm({ username: user.email, password: TEST_PASSWORD }).expect(200);
      const response = await t.http().get('/users/me').set('Authorization', `Bearer ${login.body.access_token}`);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ id: user.id, email: user.email, created_at: expect.any(String) });
    });

    it('accepts a JSON body as well', async () => {
      const user = await registerUser(t);
      const response = await t.http().post('/login').send({ username: user.email, password: TEST_PASSWORD });
      expect(response.status).toBe(200);
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.body).toEqual(
        expect.objectContaining({ access_token: expect.any(String), token_type: 'bearer', expires_in: 1800 }),
      );
      expect(decodePart(response.body.access_token as string, 1).user_id).toBe(user.id);
    });

    it('accepts grant_type, scope, client_id and client_secret and ignores them', async () => {
      const user = await registerUser(t);
      const response = await loginWithForm({
        grant_type: 'password',
        username: user.email,
        password: TEST_PASSWORD,
        scope: '',
        client_id: 'swagger-ui',
        client_secret: 'ignored',
      });
      expect(response.status).toBe(200);
      expect(response.body.token_type).toBe('bearer');
      expect(decodePart(response.body.access_token as string, 1).user_id).toBe(user.id);
    });

    it('refuses an unknown extra field with 422 naming it', async () => {
      const user = await registerUser(t);
      const response = await loginWithForm({ username: user.email, password: TEST_PASSWORD, remember_me: 'yes' });
      expectProblem(response, 422);
      expect(response.body.errors).toEqual([{ field: 'remember_me', message: expect.any(String) }]);
      expect(response.body.access_token).toBeUndefined();
    });

    it('refuses an ignored OAuth2 field longer than the documented 1,024 characters with 422 naming it', async () => {
      const user = await registerUser(t);
      for (const field of ['grant_type', 'scope', 'client_id', 'client_secret']) {
        const response = await loginWithForm({
          username: user.email,
          password: TEST_PASSWORD,
          [field]: 'x'.repeat(1025),
        });
        expectProblem(response, 422);
        expect(response.body.errors).toEqual([{ field, message: expect.any(String) }]);
      }
      expect(
        (await loginWithForm({ username: user.email, password: TEST_PASSWORD, scope: 'x'.repeat(1024) })).status,
      ).toBe(200);
    });

    it('answers 422, not 401, when username is missing', async () => {
      const response = await loginWithForm({ password: TEST_PASSWORD });
      expectProblem(response, 422);
      expect(response.body.errors).toEqual([{ field: 'username', message: expect.any(String) }]);
    });

    it('answers 422, not 401, when password is missing', async () => {
      const user = await registerUser(t);
      const response = await loginWithForm({ username: user.email });
      expectProblem(response, 422);
      expect(response.body.errors).toEqual([{ field: 'password', message: expect.any(String) }]);
    });

    it('answers 422, not 401, to an empty body', async () => {
      const response = await t.http().post('/login').send({});
      expectProblem(response, 422);
      expect(response.body.errors.map((error: { field: string }) => error.field).sort()).toEqual([
        'password',
        'username',
      ]);
    });

    it('answers 401 "Invalid credentials" to a wrong password', async () => {
      const user = await registerUser(t);
      const response = await loginWithForm({ username: user.email, password: 'not the password' });
      expectProblem(response, 401);
      expect(response.body).toEqual({
        type: expect.any(String),
        title: expect.any(String),
        status: 401,
        detail: 'Invalid credentials',
      });
      expect(response.body.access_token).toBeUndefined();
    });

    it('answers an unknown email exactly as a wrong password, so accounts cannot be enumerated', async () => {
      const user = await registerUser(t);
      const wrongPassword = await loginWithForm({ username: user.email, password: 'not the password' });
      const unknownEmail = await loginWithForm({ username: 'nobody-here@example.com', password: 'not the password' });
      expectProblem(wrongPassword, 401);
      expectProblem(unknownEmail, 401);
      expect(unknownEmail.body).toEqual(wrongPassword.body);
      expect(unknownEmail.text).toBe(wrongPassword.text);
      expect(unknownEmail.headers['content-type']).toBe(wrongPassword.headers['content-type']);
      expect(unknownEmail.headers['www-authenticate']).toBe(wrongPassword.headers['www-authenticate']);
      expect(unknownEmail.body.detail).toBe('Invalid credentials');
    });

    it.each([
      { name: 'ASCII', password: 'p'.repeat(72), extra: 'x' },
      { name: 'three-byte characters', password: '€'.repeat(24), extra: '€' },
    ])('refuses the right 72-byte password ($name) followed by more bytes with 401', async ({ password, extra }) => {
      expect(Buffer.byteLength(password)).toBe(72);
      const email = `long-${Buffer.byteLength(extra)}-${Date.now()}@example.com`;
      await t.http().post('/users').send({ email, password }).expect(201);
      await loginWithForm({ username: email, password }).expect(200);
      const response = await loginWithForm({ username: email, password: password + extra });
      expectProblem(response, 401);
      expect(response.body.detail).toBe('Invalid credentials');
    });

    it('logs in with the email in another case', async () => {
      const user = await registerUser(t);
      const response = await loginWithForm({ username: user.email.toUpperCase(), password: TEST_PASSWORD });
      expect(response.status).toBe(200);
      expect(decodePart(response.body.access_token as string, 1).user_id).toBe(user.id);
    });

    it('issues an HS256 JWT signed with the secret, with sub, user_id, iat and exp 1800 s apart', async () => {
      const user = await registerUser(t);
      const before = Math.floor(Date.now() / 1000);
      const response = await loginWithForm({ username: user.email, password: TEST_PASSWORD }).expect(200);
      const after = Math.ceil(Date.now() / 1000);
      const token = response.body.access_token as string;
      expect(decodePart(token, 0)).toEqual(expect.objectContaining({ alg: 'HS256' }));
      const payload = decodePart(token, 1);
      expect(payload.sub).toBe(String(user.id));
      expect(payload.user_id).toBe(user.id);
      expect(payload.sid).toEqual(expect.any(Number));
      expect(typeof payload.iat).toBe('number');
      expect(payload.iat).toBeGreaterThanOrEqual(before - 1);
      expect(payload.iat).toBeLessThanOrEqual(after + 1);
      expect((payload.exp as number) - (payload.iat as number)).toBe(ACCESS_TOKEN_SECONDS);
      const [header, claims, signature] = token.split('.');
      const expected = createHmac('sha256', TEST_JWT_SECRET).update(`${header}.${claims}`).digest('base64url');
      expect(signature).toBe(expected);
      expect(JSON.stringify(payload)).not.toContain(user.email);
    });
  });

  describe('bearer tokens on GET /users/me', () => {
    let victim: TestUser;

    beforeAll(async () => {
      victim = await registerUser(t);
    });

    const getMe = (authorization?: string) => {
      const request = t.http().get('/users/me');
      return authorization === undefined ? request : request.set('Authorization', authorization);
    };

    it('accepts an HS256 token this file crafts with the right secret (the control for the attacks below)', async () => {
      const response = await getMe(`Bearer ${craftToken(claimsFor(victim))}`);
      expect(response.status).toBe(200);
      expect(response.body.id).toBe(victim.id);
    });

    it('answers 401 with WWW-Authenticate: Bearer and a detail naming the header and POST /login without a token', async () => {
      const response = await getMe();
      expectProblem(response, 401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
      expect(response.body.detail).toContain('Authorization: Bearer');
      expect(response.body.detail).toContain('POST /login');
    });

    it('answers 401 with WWW-Authenticate: Bearer to a Basic Authorization header', async () => {
      const basic = Buffer.from(`${victim.email}:${TEST_PASSWORD}`).toString('base64');
      const response = await getMe(`Basic ${basic}`);
      expectProblem(response, 401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
    });

    it.each<{ name: string; token: (user: TestUser) => string }>([
      { name: 'an unsigned alg "none" token with the trailing dot', token: (user) => unsignedToken(claimsFor(user)) },
      {
        name: 'an unsigned alg "none" token without the trailing dot',
        token: (user) => unsignedToken(claimsFor(user)).slice(0, -1),
      },
      {
        name: 'an alg "none" header carrying a valid HS256 signature',
        token: (user) => {
          const [, claims, signature] = craftToken(claimsFor(user)).split('.');
          return `${encodePart({ alg: 'none', typ: 'JWT' })}.${claims}.${signature}`;
        },
      },
      {
        name: 'an HS512 token signed with the right secret',
        token: (user) => craftToken(claimsFor(user), { alg: 'HS512' }),
      },
      {
        name: 'an HS384 token signed with the right secret',
        token: (user) => craftToken(claimsFor(user), { alg: 'HS384' }),
      },
      {
        name: 'an HS256 token signed with a foreign secret',
        token: (user) => craftToken(claimsFor(user), { secret: 'a-foreign-secret-that-is-long-enough-0123456789' }),
      },
      {
        name: 'an RS256-labelled token signed with the secret as an HMAC key',
        token: (user) => craftToken(claimsFor(user), { alg: 'RS256' }),
      },
      {
        name: 'a token whose payload was changed after signing',
        token: (user) => {
          const [header, , signature] = craftToken(claimsFor(user)).split('.');
          return `${header}.${encodePart(claimsFor({ id: user.id + 1 }))}.${signature}`;
        },
      },
      { name: 'the string "abc"', token: () => 'abc' },
      { name: 'the string "a.b.c"', token: () => 'a.b.c' },
      {
        name: 'a token with a valid signature and sub "abc"',
        token: (user) => craftToken(claimsFor(user, { sub: 'abc' })),
      },
      {
        name: 'a token with a valid signature for a user id that does not exist',
        token: () => craftToken(claimsFor({ id: 999_999 })),
      },
    ])('answers 401 invalid_token to $name', async ({ token }) => {
      const response = await getMe(`Bearer ${token(victim)}`);
      expectInvalidToken(response);
      expect(response.text).not.toContain(victim.email);
    });

    it('treats "Bearer " with nothing after it as no token: 401 with a plain Bearer challenge', async () => {
      const response = await getMe('Bearer ');
      expectProblem(response, 401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
    });

    it('answers 401 invalid_token, saying it expired, to an expired token', async () => {
      const now = Math.floor(Date.now() / 1000);
      const token = craftToken(claimsFor(victim, { iat: now - 2 * ACCESS_TOKEN_SECONDS, exp: now - 60 }));
      const response = await getMe(`Bearer ${token}`);
      expectInvalidToken(response);
      expect(response.body.detail).toMatch(/expired/i);
    });

    it('answers 401 invalid_token to a well-signed token without a session id', async () => {
      const withoutSession = claimsFor(victim);
      delete withoutSession.sid;
      expectInvalidToken(await getMe(`Bearer ${craftToken(withoutSession)}`));
    });

    it("answers 401 invalid_token to a well-signed token that names another user's session", async () => {
      const other = await registerUser(t);
      const response = await getMe(`Bearer ${craftToken(claimsFor(victim, { sid: decodePart(other.token, 1).sid }))}`);
      expectInvalidToken(response);
    });

    it('answers 401 invalid_token to the token of a user deleted from the database', async () => {
      const doomed = await registerUser(t);
      await t.http().get('/users/me').set(doomed.auth).expect(200);
      await t.db.query('DELETE FROM users WHERE id = $1', [doomed.id]);
      const response = await t.http().get('/users/me').set(doomed.auth);
      expectInvalidToken(response);
      expect(response.text).not.toContain(doomed.email);
    });
  });
});
