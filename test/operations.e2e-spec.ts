import { request as httpRequest, STATUS_CODES } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Lifecycle } from '../src/lifecycle/lifecycle.service';
import { shutDown } from '../src/lifecycle/graceful-shutdown';
import { createTestApp, expectProblem, logIn, registerUser, TEST_PASSWORD, TestApp } from './support/test-app';
import { logCapture, rawExchange } from './support/raw-http';

/** The request's line is written when the response has finished, which may be just after the client has it. */
async function logLineOf(capture: ReturnType<typeof logCapture>, requestId: string): Promise<Record<string, any>> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const entry = capture
      .lines()
      .map((line) => JSON.parse(line) as Record<string, any>)
      .find((record) => record.reqId === requestId && record.status !== undefined);
    if (entry) {
      return entry;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no log line for request ${requestId}`);
}

/** Plain HTTP on a socket of our own, to see what a real client sees (keep-alive, Connection). */
function send(
  port: number,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string; agent?: unknown },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'GET',
        path: options.path,
        headers: options.headers,
        // A new connection unless an agent is given (Node's global agent keeps connections alive).
        agent: (options.agent ?? false) as never,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('Logs', () => {
  const capture = logCapture();
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ LOG_LEVEL: 'debug', LOG_FORMAT: 'json' }, { logDestination: capture.stream });
  });

  afterAll(() => t.close());

  it('writes one JSON line per request with its id, method, route, status and latency', async () => {
    await t.http().get('/posts/12345').set('X-Request-Id', 'trace-42').expect(401);

    const entry = await logLineOf(capture, 'trace-42');
    expect(entry).toEqual(
      expect.objectContaining({
        level: 30,
        reqId: 'trace-42',
        method: 'GET',
        url: '/posts/12345',
        status: 401,
        route: '/posts/:id',
        client: '127.0.0.1',
        responseTime: expect.any(Number),
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        // The shape of every other line of the process (the request lines are built apart from the root logger).
        pid: process.pid,
        hostname: expect.any(String),
        msg: 'GET /posts/:id 401 ' + String(entry.responseTime) + 'ms',
      }),
    );
  });

  it('returns the X-Request-Id it was given, and a new one when none or an unusable one came', async () => {
    const given = await t.http().get('/health').set('X-Request-Id', 'abc-123_x.y');
    expect(given.headers['x-request-id']).toBe('abc-123_x.y');

    const none = await t.http().get('/health');
    expect(none.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);

    const forged = await t.http().get('/health').set('X-Request-Id', 'x'.repeat(500));
    expect(forged.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const injected = await t.http().get('/health').set('X-Request-Id', 'a"} <script>');
    expect(injected.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('never writes a password, a hash, a token or an Authorization header, whatever the request', async () => {
    const user = await registerUser(t);
    const newPassword = 'a brand new secret passphrase';
    // Logins by form and JSON, a failed one, a refresh, validation errors that carry passwords.
    await t.http().post('/login').send({ username: user.email, password: TEST_PASSWORD }).expect(200);
    await t.http().post('/login').type('form').send({ username: user.email, password: 'wrong-password-123' });
    const refreshed = await t.http().post('/auth/refresh').send({ refresh_token: user.refreshToken }).expect(200);
    await t.http().post('/users').send({ email: 'not-an-email', password: TEST_PASSWORD }).expect(422);
    await t.http().post('/users').send({ email: user.email, password: TEST_PASSWORD }).expect(409);
    await t.http().post('/login').set('Content-Type', 'application/json').send(`{"password":"${TEST_PASSWORD}"`);
    await t.http().get(`/posts?access_token=${user.token}&password=${TEST_PASSWORD}`).set(user.auth);
    await t.http().get('/users/me').set('Authorization', `Bearer ${user.token}x`).expect(401);
    await t
      .http()
      .put('/users/me/password')
      .set({ Authorization: `Bearer ${refreshed.body.access_token}` })
      .send({ current_password: TEST_PASSWORD, new_password: newPassword })
      .expect(204);
    const again = await logIn(t, user.email, newPassword);
    await t.http().get('/health').set('X-Request-Id', 'last-of-the-secrets-test');
    await logLineOf(capture, 'last-of-the-secrets-test');
    const { rows } = await t.db.query<{ hash: string }>('SELECT password_hash AS hash FROM users WHERE id = $1', [
      user.id,
    ]);

    const log = capture.lines().join('\n');
    // The requests were logged (so the checks below look at something).
    expect(log).toContain('"route":"/users/me/password"');
    expect(log).toContain('"route":"/auth/refresh"');
    for (const secret of [
      TEST_PASSWORD,
      encodeURIComponent(TEST_PASSWORD),
      newPassword,
      rows[0].hash,
      user.token,
      user.refreshToken,
      refreshed.body.access_token as string,
      refreshed.body.refresh_token as string,
      again.token,
      again.refreshToken,
    ]) {
      expect({ secret, found: log.includes(secret) }).toEqual({ secret, found: false });
    }
    expect(log).not.toMatch(/authorization/i);
    expect(log).not.toMatch(/Bearer\s+(?!\[redacted\])/);
  });
});

describe('Errors before a route runs', () => {
  let t: TestApp;
  let port: number;

  beforeAll(async () => {
    t = await createTestApp();
    await t.app.listen(0, '127.0.0.1');
    port = (t.app.getHttpServer().address() as AddressInfo).port;
  });

  afterAll(() => t.close());

  it('answers a JSON body nested too deeply with 400 problem+json, on public routes too', async () => {
    const deep = `{"email":${'['.repeat(2000)}${']'.repeat(2000)},"password":"x"}`;
    const response = await t.http().post('/users').set('Content-Type', 'application/json').send(deep);
    expectProblem(response, 400);
    expect(response.body.detail).toMatch(/nests objects or arrays more than 32 levels/);
    // Brackets inside strings are only text.
    const inString = await t
      .http()
      .post('/users')
      .send({ email: `${'['.repeat(100)}@example.com`, password: TEST_PASSWORD });
    expectProblem(inString, 422);
  });

  it('takes half a surrogate pair in a JSON string as U+FFFD, like an invalid UTF-8 byte, never a 500', async () => {
    const email = await t
      .http()
      .post('/users')
      .set('Content-Type', 'application/json')
      .send(`{"email":"\\ud800","password":"${TEST_PASSWORD}"}`);
    expectProblem(email, 422);
    expect(email.body.errors).toEqual([expect.objectContaining({ field: 'email' })]);

    const user = await registerUser(t);
    const created = await t
      .http()
      .post('/posts')
      .set(user.auth)
      .set('Content-Type', 'application/json')
      .send('{"title":"half \\udc00 pair, whole \\ud83d\\ude00 pair","content":"x"}')
      .expect(201);
    expect(created.body.title).toBe('half \uFFFD pair, whole \u{1F600} pair');
  });

  it('answers a malformed URL with 400 and an over-long path segment with 414, as problem+json with the usual headers', async () => {
    for (const [path, status] of [
      ['/%FF', 400],
      ['/posts/%ZZ', 400],
      [`/posts/${'9'.repeat(150)}`, 414],
    ] as const) {
      const response = await t.http().get(path);
      expectProblem(response, status);
      expect(response.text).not.toContain('9'.repeat(150));
      expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(response.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it('answers requests HTTP itself refuses (framing, Content-Length, header size) with problem+json and closes', async () => {
    for (const [bytes, status] of [
      ['POST /users HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}', 400],
      ['POST /users HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
      ['GET /posts HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n', 400],
      [`GET /posts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${'a'.repeat(20_000)}\r\n\r\n`, 431],
      ['GET /posts HTTP/1.1\r\nConnection: close\r\n\r\n', 400],
    ] as const) {
      const answer = await rawExchange(port, bytes);
      expect(answer.split('\r\n')[0]).toBe(`HTTP/1.1 ${status} ${STATUS_CODES[status]}`);
      expect(answer).toMatch(/\r\ncontent-type: application\/problem\+json(; charset=utf-8)?\r\n/i);
      expect(answer).toMatch(/\r\nconnection: close\r\n/i);
      const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { status: number; detail: string };
      expect(body.status).toBe(status);
      expect(body.detail.length).toBeGreaterThan(0);
    }
  });
});

describe('Security headers and CORS', () => {
  let t: TestApp;
  let open: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
    open = await createTestApp({ CORS_ORIGINS: 'https://app.example.com, https://admin.example.com' });
  });

  afterAll(async () => {
    await t.close();
    await open.close();
  });

  it('sends helmet headers on API answers, errors and the docs pages', async () => {
    for (const path of ['/health', '/posts', '/no-such-route', '/docs', '/redoc']) {
      const response = await t.http().get(path);
      expect({ path, nosniff: response.headers['x-content-type-options'] }).toEqual({ path, nosniff: 'nosniff' });
      expect(response.headers['content-security-policy']).toMatch(/frame-ancestors '(none|self)'/);
      expect(response.headers['strict-transport-security']).toMatch(/max-age=\d+/);
      expect(response.headers['referrer-policy']).toBe('no-referrer');
      expect(response.headers['x-powered-by']).toBeUndefined();
    }
    // JSON loads nothing; the docs pages may run their own scripts, and nothing else.
    expect((await t.http().get('/posts')).headers['content-security-policy']).toBe(
      "default-src 'none';frame-ancestors 'none'",
    );
    expect((await t.http().get('/docs')).headers['content-security-policy']).toMatch(/script-src 'self'(;|$)/);
  });

  it('is closed to other origins by default: no Access-Control-Allow-Origin, preflights refused', async () => {
    const simple = await t.http().get('/health').set('Origin', 'https://app.example.com');
    expect(simple.headers['access-control-allow-origin']).toBeUndefined();

    const preflight = await t
      .http()
      .options('/posts')
      .set({ Origin: 'https://app.example.com', 'Access-Control-Request-Method': 'POST' });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    expect(preflight.status).toBeGreaterThanOrEqual(400);
  });

  it('allows exactly the configured origins, with the Authorization header and the useful response headers', async () => {
    const preflight = await open.http().options('/posts').set({
      Origin: 'https://admin.example.com',
      'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'authorization,content-type',
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://admin.example.com');
    expect(preflight.headers['access-control-allow-headers']).toMatch(/Authorization/);

    const listed = await open.http().get('/posts').set('Origin', 'https://app.example.com');
    expect(listed.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(listed.headers['access-control-expose-headers']).toMatch(/Retry-After/);
    expect(listed.headers['access-control-expose-headers']).toMatch(/X-Request-Id/);

    const other = await open.http().get('/posts').set('Origin', 'https://evil.example.net');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('The global per-client rate limit', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ RATE_LIMIT_MAX: '5', RATE_LIMIT_WINDOW_SECONDS: '60', TRUST_PROXY: 'true' });
  });

  afterAll(() => t.close());

  it('counts every route together, token or not, and answers 429 problem+json with Retry-After beyond it', async () => {
    const client = { 'X-Forwarded-For': '203.0.113.7' };
    const first = await t.http().get('/posts').set(client).expect(401);
    expect(first.headers['x-ratelimit-limit']).toBe('5');
    expect(first.headers['x-ratelimit-remaining']).toBe('4');
    await t.http().get('/posts/1').set(client).expect(401);
    await t.http().post('/users').set(client).send({}).expect(422);
    await t.http().post('/login').set(client).send({}).expect(422);
    await t.http().get('/users/me').set(client).expect(401);

    const refused = await t.http().get('/posts').set(client);
    expectProblem(refused, 429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(refused.body.detail).toMatch(/Too many requests/);
    // Before anything else runs: even a valid registration is refused, and writes nothing.
    expectProblem(
      await t.http().post('/users').set(client).send({ email: 'late@example.com', password: TEST_PASSWORD }),
      429,
    );
    expect((await t.db.query(`SELECT 1 FROM users WHERE email = 'late@example.com'`)).rowCount).toBe(0);
  });

  it('keeps other clients and the health checks out of it', async () => {
    const client = { 'X-Forwarded-For': '203.0.113.8' };
    for (let i = 0; i < 5; i += 1) {
      await t.http().get('/posts').set(client).expect(401);
    }
    expectProblem(await t.http().get('/posts').set(client), 429);
    await t.http().get('/health').set(client).expect(200);
    await t.http().get('/health/ready').set(client).expect(200);
    await t.http().get('/posts').set({ 'X-Forwarded-For': '203.0.113.9' }).expect(401);
  });

  it('still limits, in memory, when REDIS_URL points at a Redis that does not answer', async () => {
    const broken = await createTestApp({ RATE_LIMIT_MAX: '3', REDIS_URL: 'redis://127.0.0.1:9' });
    try {
      for (let i = 0; i < 3; i += 1) {
        await broken.http().get('/posts').expect(401);
      }
      expectProblem(await broken.http().get('/posts'), 429);
    } finally {
      await broken.close();
    }
  });
});

describe('GET /health/ready', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(() => t.close());

  it('is 200 once every migration has run', async () => {
    const response = await t.http().get('/health/ready').expect(200);
    expect(response.body).toEqual({ status: 'ready' });
  });

  it('is 503 while a migration is pending, and 200 again once it is recorded', async () => {
    const { rows } = await t.db.query<{ id: number; timestamp: string; name: string }>(
      'DELETE FROM migrations WHERE id = (SELECT max(id) FROM migrations) RETURNING id, timestamp, name',
    );
    try {
      const response = await t.http().get('/health/ready');
      expectProblem(response, 503);
      expect(response.body.reason).toBe('migrations-pending');
      // Liveness is another matter: the process and its database are fine.
      await t.http().get('/health').expect(200);
    } finally {
      await t.db.query('INSERT INTO migrations (id, timestamp, name) VALUES ($1, $2, $3)', [
        rows[0].id,
        rows[0].timestamp,
        rows[0].name,
      ]);
    }
    await t.http().get('/health/ready').expect(200);
  });

  it('is 503 from the moment the instance starts shutting down, when every other request is refused too', async () => {
    t.app.get(Lifecycle).beginRefusing();

    const ready = await t.http().get('/health/ready');
    expectProblem(ready, 503);
    expect(ready.body.reason).toBe('shutting-down');
    const refused = await t.http().get('/posts');
    expectProblem(refused, 503);
    expect(refused.headers.connection).toBe('close');
    expect(refused.body.detail).toMatch(/shutting down/);
  });
});

describe('Database timeouts', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ DATABASE_STATEMENT_TIMEOUT_MS: '300' });
  });

  afterAll(() => t.close());

  it('answers 503 problem+json when a statement runs past DATABASE_STATEMENT_TIMEOUT_MS, and serves again after', async () => {
    const user = await registerUser(t);
    const locker = await t.db.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE posts IN ACCESS EXCLUSIVE MODE');
      const startedAt = Date.now();
      const response = await t.http().get('/posts').set(user.auth);
      const elapsed = Date.now() - startedAt;
      expectProblem(response, 503);
      expect(response.headers['retry-after']).toBeDefined();
      expect(elapsed).toBeLessThan(5_000);
    } finally {
      await locker.query('ROLLBACK');
      locker.release();
    }
    await t.http().get('/posts').set(user.auth).expect(200);
  });
});

describe('Graceful shutdown', () => {
  it('finishes a request in flight, refuses new connections, and answers 503 on an open keep-alive connection', async () => {
    // A real bcrypt cost makes POST /login take a while.
    const t = await createTestApp({ BCRYPT_ROUNDS: '12' });
    const email = `slow-${Date.now()}@example.com`;
    await t.http().post('/users').send({ email, password: TEST_PASSWORD }).expect(201);
    await t.app.listen(0, '127.0.0.1');
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    const { Agent } = await import('node:http');
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    await send(port, { path: '/health', agent: keepAlive });

    const inFlight = send(port, {
      method: 'POST',
      path: '/login',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: email, password: TEST_PASSWORD }),
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const stopping = shutDown(t.app, { delayMs: 0, graceMs: 10_000 }, 'test');
    expect(t.app.get(Lifecycle).shuttingDown).toBe(true);

    const onOpenConnection = await send(port, { path: '/posts', agent: keepAlive }).catch((error: Error) => ({
      error,
    }));
    if (!('error' in onOpenConnection)) {
      // The idle connection may be closed first (a clean refusal too); if it was still open: 503 problem.
      expect(onOpenConnection.status).toBe(503);
      expect(onOpenConnection.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(onOpenConnection.headers.connection).toBe('close');
    }
    await expect(send(port, { path: '/health' })).rejects.toThrow(/ECONNREFUSED/);

    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body).access_token).toEqual(expect.any(String));
    await expect(stopping).resolves.toBe(0);
    keepAlive.destroy();
    await t.close();
  });

  it('with SHUTDOWN_DELAY_SECONDS, goes on serving while not ready, then closes', async () => {
    const t = await createTestApp();
    await t.app.listen(0, '127.0.0.1');
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    const stopping = shutDown(t.app, { delayMs: 1_000, graceMs: 5_000 }, 'test');

    const ready = await send(port, { path: '/health/ready' });
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body).reason).toBe('shutting-down');
    const served = await send(port, { path: '/posts' });
    expect(served.status).toBe(401);
    expect(served.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(served.body).not.toMatch(/shutting down/);

    await expect(stopping).resolves.toBe(0);
    await expect(send(port, { path: '/health' })).rejects.toThrow(/ECONNREFUSED/);
    await t.close();
  });

  it('cuts what is still running when the grace period is over', async () => {
    const t = await createTestApp({ BCRYPT_ROUNDS: '14' });
    const email = `slower-${Date.now()}@example.com`;
    await t.http().post('/users').send({ email, password: TEST_PASSWORD }).expect(201);
    await t.app.listen(0, '127.0.0.1');
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    const inFlight = send(port, {
      method: 'POST',
      path: '/login',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: email, password: TEST_PASSWORD }),
    }).catch((error: Error) => ({ error }));
    await new Promise((resolve) => setTimeout(resolve, 50));

    const startedAt = Date.now();
    await shutDown(t.app, { delayMs: 0, graceMs: 100 }, 'test');
    expect(Date.now() - startedAt).toBeLessThan(5_000);
    expect(await inFlight).toEqual({
      error: expect.objectContaining({ message: expect.stringMatching(/socket hang up|ECONNRESET/) }),
    });
    await t.close();
  });
});
