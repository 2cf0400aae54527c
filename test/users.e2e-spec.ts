import type { Response } from 'supertest';
import { createTestApp, expectProblem, registerUser, snapshotTables, TestApp, TEST_PASSWORD } from './support/test-app';

const ISO_TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const LARGEST_INT4 = 2_147_483_647;

let emailCounter = 0;

/** An address no other test of this file uses. */
function uniqueEmail(prefix = 'user'): string {
  emailCounter += 1;
  return `${prefix}${emailCounter}@example.com`;
}

/** The 422 names exactly these fields, one entry each, as `[{field, message}]`. */
function expectFieldErrors(response: Response, fields: string[]): void {
  expectProblem(response, 422);
  expect(response.body.errors).toEqual(fields.map((field) => ({ field, message: expect.any(String) })));
  for (const error of response.body.errors as { message: string }[]) {
    expect(error.message.length).toBeGreaterThan(0);
  }
}

describe('Users', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(async () => {
    await t.close();
  });

  /** Sends a request that must be refused, and proves it left every table as it was. */
  async function expectRefused(
    send: () => PromiseLike<Response>,
    status: number,
    fields?: string[],
  ): Promise<Response> {
    const before = await snapshotTables(t.db);
    const response = await send();
    if (fields) {
      expect(status).toBe(422);
      expectFieldErrors(response, fields);
    } else {
      expectProblem(response, status);
      if (status === 422) {
        expect(response.body.errors).toEqual([{ field: expect.any(String), message: expect.any(String) }]);
      }
    }
    expect(await snapshotTables(t.db)).toEqual(before);
    return response;
  }

  const register = (body: unknown) =>
    t
      .http()
      .post('/users')
      .send(body as object);

  describe('POST /users', () => {
    it('registers a user with a trimmed, lower-case email and answers 201 with Location', async () => {
      const response = await t.http().post('/users').send({ email: '  Carol@Example.COM ', password: TEST_PASSWORD });
      expect(response.status).toBe(201);
      expect(response.headers.location).toBe(`/users/${response.body.id}`);
      expect(response.body).toEqual({
        id: expect.any(Number),
        username: null,
        email: 'carol@example.com',
        created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      });
    });

    it('answers 201 with the user as {id, username, email, created_at} and nothing else', async () => {
      const email = uniqueEmail('shape');
      const response = await register({ email, password: TEST_PASSWORD });
      expect(response.status).toBe(201);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(Object.keys(response.body as object).sort()).toEqual(['created_at', 'email', 'id', 'username']);
      expect(Number.isInteger(response.body.id)).toBe(true);
      expect(response.body.id).toBeGreaterThan(0);
      expect(response.body.email).toBe(email);
      expect(response.body.created_at).toMatch(ISO_TIMESTAMP);
      expect(response.headers.location).toBe(`/users/${response.body.id}`);
    });

    it('stores the user in lower case with a bcrypt hash, and answers with neither the password nor the hash', async () => {
      const password = 'Unique-Pa55word-for-the-leak-check';
      const response = await register({ email: '  Leak.Check@Example.ORG ', password });
      expect(response.status).toBe(201);
      const { rows } = await t.db.query('SELECT email, password_hash FROM users WHERE id = $1', [response.body.id]);
      expect(rows).toEqual([{ email: 'leak.check@example.org', password_hash: expect.stringMatching(/^\$2[aby]\$/) }]);
      expect(response.text).not.toContain(password);
      expect(response.text).not.toContain('$2');
      expect(response.text).not.toContain(rows[0].password_hash);
      expect(response.text).not.toMatch(/password|hash/i);
    });

    it('answers 409 problem+json when the email is taken in another case', async () => {
      const email = uniqueEmail('taken');
      await register({ email, password: TEST_PASSWORD }).expect(201);
      const response = await expectRefused(
        () => register({ email: `  ${email.toUpperCase()}`, password: 'another password' }),
        409,
      );
      expect(response.text).not.toContain('$2');
    });

    it('writes neither the password nor its hash to the log when the email is taken', async () => {
      const email = uniqueEmail('quiet');
      await register({ email, password: TEST_PASSWORD }).expect(201);
      const password = 'a-password-that-must-stay-secret';
      const written: string[] = [];
      const spies = [
        ...(['log', 'info', 'warn', 'error', 'debug'] as const).map((method) =>
          jest.spyOn(console, method).mockImplementation((...args: unknown[]) => {
            written.push(args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' '));
          }),
        ),
        ...[process.stdout, process.stderr].map((stream) =>
          jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
            written.push(String(chunk));
            return true;
          }),
        ),
      ];
      try {
        const response = await register({ email, password });
        expectProblem(response, 409);
      } finally {
        spies.forEach((spy) => spy.mockRestore());
      }
      const log = written.join('\n');
      expect(log).not.toContain(password);
      expect(log).not.toContain('$2');
    });

    it('accepts an email of exactly 254 characters', async () => {
      const email = `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(57)}.com`;
      expect(email).toHaveLength(254);
      const response = await register({ email, password: TEST_PASSWORD });
      expect(response.status).toBe(201);
      expect(response.body.email).toBe(email);
    });

    it('refuses an email of 255 characters with 422', async () => {
      const email = `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(58)}.com`;
      expect(email).toHaveLength(255);
      await expectRefused(() => register({ email, password: TEST_PASSWORD }), 422, ['email']);
    });

    it.each([
      { name: 'no @', email: 'not-an-email' },
      { name: 'no domain', email: 'alice@' },
      { name: 'no local part', email: '@example.com' },
      { name: 'a space inside', email: 'al ice@example.com' },
      { name: 'only spaces', email: '   ' },
      { name: 'an empty string', email: '' },
    ])('refuses an invalid email ($name) with 422', async ({ email }) => {
      await expectRefused(() => register({ email, password: TEST_PASSWORD }), 422, ['email']);
    });

    it('refuses a missing email with 422 naming email', async () => {
      await expectRefused(() => register({ password: TEST_PASSWORD }), 422, ['email']);
    });

    it('refuses a missing password with 422 naming password', async () => {
      await expectRefused(() => register({ email: uniqueEmail() }), 422, ['password']);
    });

    it('names both fields when both are missing', async () => {
      await expectRefused(() => register({}), 422, ['email', 'password']);
    });

    it('refuses a password of 7 bytes with 422', async () => {
      await expectRefused(() => register({ email: uniqueEmail(), password: 'abcdefg' }), 422, ['password']);
    });

    it('accepts a password of exactly 8 bytes', async () => {
      await register({ email: uniqueEmail(), password: 'abcdefgh' }).expect(201);
    });

    it('accepts a password of exactly 72 bytes', async () => {
      await register({ email: uniqueEmail(), password: 'p'.repeat(72) }).expect(201);
    });

    it('refuses an ASCII password of 73 bytes with 422 rather than cutting it', async () => {
      await expectRefused(() => register({ email: uniqueEmail(), password: 'p'.repeat(73) }), 422, ['password']);
    });

    it('accepts 24 three-byte characters (72 bytes)', async () => {
      const password = '€'.repeat(24);
      expect(Buffer.byteLength(password)).toBe(72);
      await register({ email: uniqueEmail(), password }).expect(201);
    });

    it('refuses 25 three-byte characters (25 characters but 75 bytes) with 422', async () => {
      const password = '€'.repeat(25);
      expect(password).toHaveLength(25);
      expect(Buffer.byteLength(password)).toBe(75);
      await expectRefused(() => register({ email: uniqueEmail(), password }), 422, ['password']);
    });

    it('refuses a password containing NUL with 422', async () => {
      await expectRefused(() => register({ email: uniqueEmail(), password: 'pass\u0000word-long-enough' }), 422, [
        'password',
      ]);
    });

    it.each([
      { field: 'email', type: 'a number', value: 12345678 },
      { field: 'email', type: 'null', value: null },
      { field: 'email', type: 'an array', value: ['alice@example.com'] },
      { field: 'email', type: 'an object', value: { address: 'alice@example.com' } },
      { field: 'email', type: 'a boolean', value: true },
      { field: 'password', type: 'a number', value: 1234567890 },
      { field: 'password', type: 'null', value: null },
      { field: 'password', type: 'an array', value: [TEST_PASSWORD] },
      { field: 'password', type: 'an object', value: { value: TEST_PASSWORD } },
      { field: 'password', type: 'a boolean', value: true },
    ])('refuses $field as $type with 422 naming $field', async ({ field, value }) => {
      const body = { email: uniqueEmail(), password: TEST_PASSWORD, [field]: value };
      await expectRefused(() => register(body), 422, [field]);
    });

    it.each([
      { field: 'id', value: 1 },
      { field: 'created_at', value: '2020-01-01T00:00:00.000Z' },
      { field: 'password_hash', value: '$2b$04$abcdefghijklmnopqrstuu5Jm0pL3Ih8T6CUVR4C7zPe5cDGY5l9y' },
      { field: 'is_admin', value: true },
    ])('refuses the unknown field $field with 422 naming it', async ({ field, value }) => {
      await expectRefused(() => register({ email: uniqueEmail(), password: TEST_PASSWORD, [field]: value }), 422, [
        field,
      ]);
    });

    it('refuses a body that is a JSON array with 422', async () => {
      await expectRefused(() => register([{ email: uniqueEmail(), password: TEST_PASSWORD }]), 422);
    });

    it('refuses a body that is a JSON string with 422', async () => {
      await expectRefused(
        () => t.http().post('/users').set('Content-Type', 'application/json').send('"alice@example.com"'),
        422,
      );
    });

    it('refuses a body that is JSON null with 422', async () => {
      await expectRefused(() => t.http().post('/users').set('Content-Type', 'application/json').send('null'), 422);
    });

    it('answers 400 problem+json to malformed JSON', async () => {
      await expectRefused(
        () => t.http().post('/users').set('Content-Type', 'application/json').send('{"email": "a@example.com",'),
        400,
      );
    });

    it('answers 415 problem+json to a text/plain body', async () => {
      await expectRefused(
        () =>
          t
            .http()
            .post('/users')
            .set('Content-Type', 'text/plain')
            .send(JSON.stringify({ email: uniqueEmail(), password: TEST_PASSWORD })),
        415,
      );
    });

    it('answers 413 problem+json to a body over 256 KiB', async () => {
      const body = JSON.stringify({ email: uniqueEmail(), password: 'x'.repeat(257 * 1024) });
      expect(Buffer.byteLength(body)).toBeGreaterThan(256 * 1024);
      await expectRefused(() => t.http().post('/users').set('Content-Type', 'application/json').send(body), 413);
    });

    it('answers POST /users/ with a trailing slash directly, without a redirect', async () => {
      const email = uniqueEmail('slash');
      const response = await t.http().post('/users/').send({ email, password: TEST_PASSWORD }).redirects(0);
      expect(response.status).toBe(201);
      expect(response.body.email).toBe(email);
      expect(response.headers.location).toBe(`/users/${response.body.id}`);
    });

    it('gives exactly one 201 and otherwise 409 to ten concurrent registrations of one email', async () => {
      const email = uniqueEmail('race');
      const variants = Array.from({ length: 10 }, (_, index) => (index % 2 === 0 ? email : email.toUpperCase()));
      const responses = await Promise.all(
        variants.map((variant) => register({ email: variant, password: TEST_PASSWORD })),
      );
      const statuses = responses.map((response) => response.status).sort();
      expect(statuses).toEqual([201, 409, 409, 409, 409, 409, 409, 409, 409, 409]);
      for (const response of responses.filter((candidate) => candidate.status === 409)) {
        expectProblem(response, 409);
      }
      const { rows } = await t.db.query('SELECT id FROM users WHERE lower(email) = $1', [email]);
      expect(rows).toHaveLength(1);
    });
  });

  describe('GET /users/me', () => {
    it('answers 200 with the user of the token', async () => {
      const user = await registerUser(t);
      const response = await t.http().get('/users/me').set(user.auth);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        id: user.id,
        username: null,
        email: user.email,
        created_at: expect.stringMatching(ISO_TIMESTAMP),
        role: 'user',
        email_verified: false,
      });
      expect(response.text).not.toContain(user.password);
      expect(response.text).not.toContain('$2');
    });

    it('answers GET /users/me/ with a trailing slash directly, without a redirect', async () => {
      const user = await registerUser(t);
      const response = await t.http().get('/users/me/').set(user.auth).redirects(0);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ id: user.id, email: user.email, role: 'user' });
    });

    it('answers 401 with WWW-Authenticate: Bearer without a token', async () => {
      const response = await t.http().get('/users/me');
      expectProblem(response, 401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
    });
  });

  describe('GET /users/{id}', () => {
    it("answers 200 with another user's public fields", async () => {
      const reader = await registerUser(t);
      const other = await registerUser(t);
      const created = await t.db.query('SELECT created_at FROM users WHERE id = $1', [other.id]);
      const response = await t.http().get(`/users/${other.id}`).set(reader.auth);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        id: other.id,
        username: null,
        email: other.email,
        created_at: (created.rows[0].created_at as Date).toISOString(),
      });
      expect(response.text).not.toContain('$2');
    });

    it('answers GET /users/{id}/ with a trailing slash directly, without a redirect', async () => {
      const user = await registerUser(t);
      const response = await t.http().get(`/users/${user.id}/`).set(user.auth).redirects(0);
      expect(response.status).toBe(200);
      expect(response.body.id).toBe(user.id);
    });

    it('answers 404 problem+json for an id no user has', async () => {
      const user = await registerUser(t);
      const response = await t.http().get(`/users/${LARGEST_INT4}`).set(user.auth);
      expectProblem(response, 404);
    });

    it.each(['abc', '-1', '1.5', '1e3', '0x10'])(
      'answers 404 problem+json for %s, taken as a username no user has',
      async (id) => {
        const user = await registerUser(t);
        const response = await t.http().get(`/users/${id}`).set(user.auth);
        expectProblem(response, 404);
      },
    );

    it.each(['0', '99999999999', String(LARGEST_INT4 + 1)])(
      'answers 422 problem+json for the id %s (digits only, out of range)',
      async (id) => {
        const user = await registerUser(t);
        const response = await t.http().get(`/users/${id}`).set(user.auth);
        expectFieldErrors(response, ['id']);
      },
    );

    it('answers 401 with WWW-Authenticate: Bearer without a token', async () => {
      const user = await registerUser(t);
      const response = await t.http().get(`/users/${user.id}`);
      expectProblem(response, 401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
      expect(response.text).not.toContain(user.email);
    });
  });
});
