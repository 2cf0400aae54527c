import { Agent } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import type { Response } from 'supertest';
import { createTestApp, expectProblem, registerUser, snapshotTables, TestApp, TEST_PASSWORD } from './support/test-app';
import { call, logCapture, rawExchange } from './support/raw-http';
import { craftToken } from './support/tokens';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Starts `task` after `ms` milliseconds (a request is sent when it is awaited). */
const after = <T>(ms: number, task: () => PromiseLike<T>): Promise<T> => sleep(ms).then(task);

const logInWith = (t: TestApp, email: string, password: string) =>
  t.http().post('/login').type('form').send({ username: email, password });
const me = (t: TestApp, accessToken: string) => t.http().get('/users/me').set('Authorization', `Bearer ${accessToken}`);
const refresh = (t: TestApp, refreshToken: string) =>
  t.http().post('/auth/refresh').send({ refresh_token: refreshToken });

interface IssuedTokens {
  access: string;
  refresh: string;
}

const tokensOf = (login: Response): IssuedTokens => ({
  access: login.body.access_token as string,
  refresh: login.body.refresh_token as string,
});

const claimsOf = (accessToken: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(accessToken.split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>;

/** The tokens that still work: the access token checked first, then the refresh token (empty when all are dead). */
async function stillWorking(t: TestApp, issued: IssuedTokens[]): Promise<string[]> {
  const working: string[] = [];
  for (const [index, tokens] of issued.entries()) {
    const access = (await me(t, tokens.access)).status;
    if (access !== 401) {
      working.push(`access token ${index}: ${access}`);
    }
    const renewed = (await refresh(t, tokens.refresh)).status;
    if (renewed !== 401) {
      working.push(`refresh token ${index}: ${renewed}`);
    }
  }
  return working;
}

const portOf = (t: TestApp): number => (t.app.getHttpServer().address() as AddressInfo).port;

/** An HTTP/1.1 answer read off a socket: status, headers (lower-case names) and body. */
function parseRawAnswer(answer: string): { status: number; headers: Record<string, string>; body: string } {
  const headEnd = answer.indexOf('\r\n\r\n');
  const [statusLine, ...lines] = answer.slice(0, headEnd < 0 ? answer.length : headEnd).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: headEnd < 0 ? '' : answer.slice(headEnd + 4) };
}

// First in the file: nestjs-pino keeps one root logger per module registry, the one of the
// first app created, and the logs made outside a request (such as the exception filter's)
// go to it. This app's log capture sees them only while it is that first app.
describe('A client that drops its connection mid-body', () => {
  const capture = logCapture();
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ LOG_LEVEL: 'debug', LOG_FORMAT: 'json' }, { logDestination: capture.stream });
    await t.app.listen(0, '127.0.0.1');
  });

  afterAll(() => t.close());

  it('is not logged as a database outage, and the service stays healthy', async () => {
    const socket = connect(portOf(t), '127.0.0.1');
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(
      'POST /users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"email":',
    );
    await sleep(50);
    socket.destroy();
    await sleep(300);

    // Logs made outside a request (the exception filter's among them) go to the first app of the file.
    expect(capture.lines().some((line) => line.includes('Nest application successfully started'))).toBe(true);
    const health = await t.http().get('/health').set('X-Request-Id', 'after-the-dropped-client').expect(200);
    expect(health.body).toEqual({ status: 'ok', database: 'up' });
    // The capture works: the health check's own line arrives (it is written once the answer is sent).
    const logged = () => capture.lines().some((line) => line.includes('after-the-dropped-client'));
    for (let attempt = 0; attempt < 50 && !logged(); attempt += 1) {
      await sleep(20);
    }
    expect(logged()).toBe(true);

    const alarming = capture.lines().filter((line) => {
      if (line.includes('Database unavailable')) {
        return true;
      }
      try {
        return ((JSON.parse(line) as { level?: number }).level ?? 0) >= 50;
      } catch {
        return false;
      }
    });
    expect(alarming).toEqual([]);
    expect(capture.lines().some((line) => line.includes('The client closed the connection'))).toBe(true);
  });
});

describe('POST /login racing DELETE /users/me', () => {
  let t: TestApp;

  beforeAll(async () => {
    // A real bcrypt cost keeps each login's password check in flight while the account goes.
    t = await createTestApp({ BCRYPT_ROUNDS: '10', LOGIN_MAX_FAILURES: '1000' });
  });

  afterAll(() => t.close());

  it('answers each login 200, 401 or 429 and leaves no token of the deleted account working', async () => {
    const rounds: Record<string, unknown>[] = [];
    for (let round = 1; round <= 3; round += 1) {
      const user = await registerUser(t);
      const logins = Array.from({ length: 8 }, (_, index) =>
        after(index * 100, () => logInWith(t, user.email, TEST_PASSWORD)),
      );
      const deletion = after(250, () => t.http().delete('/users/me').set(user.auth).send({ password: TEST_PASSWORD }));
      const answers = await Promise.all(logins);
      const deleted = await deletion;
      const statuses = answers.map((answer) => answer.status);
      const issued = [
        { access: user.token, refresh: user.refreshToken },
        ...answers.filter((answer) => answer.status === 200).map(tokensOf),
      ];
      rounds.push({
        round,
        loginStatuses: statuses,
        unexpectedStatuses: statuses.filter((status) => ![200, 401, 429].includes(status)),
        deleteStatus: deleted.status,
        workingTokens: await stillWorking(t, issued),
        newLogin: (await logInWith(t, user.email, TEST_PASSWORD)).status,
      });
    }
    expect(rounds).toEqual(
      rounds.map((round) => ({
        ...round,
        unexpectedStatuses: [],
        deleteStatus: 204,
        workingTokens: [],
        newLogin: 401,
      })),
    );
  });
});

describe('POST /posts racing DELETE /users/me', () => {
  let t: TestApp;
  let port: number;

  beforeAll(async () => {
    t = await createTestApp();
    await t.app.listen(0, '127.0.0.1');
    port = portOf(t);
  });

  afterAll(() => t.close());

  it('answers each write 201, 401 or 404 and leaves no post of the deleted account', async () => {
    const reader = await registerUser(t);
    await t.http().post('/posts').set(reader.auth).send({ title: 'The reader', content: 'stays' }).expect(201);
    // Kept-alive connections: the writers spend their time in the app, not in connecting.
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    const rounds: Record<string, unknown>[] = [];
    try {
      // The window between a write's token check and its INSERT is short: the race is run five times.
      for (let round = 1; round <= 5; round += 1) {
        const writer = await registerUser(t);
        const statuses: number[] = [];
        const end = Date.now() + 1_000;
        const writeLoop = async (loop: number) => {
          for (let index = 0; Date.now() < end; index += 1) {
            const answer = await call(port, agent, {
              method: 'POST',
              path: '/posts',
              accessToken: writer.token,
              json: { title: `Race ${round}.${loop}.${index}`, content: 'written while the account goes' },
            });
            statuses.push(answer.status);
          }
        };
        const loops = Promise.all([0, 1, 2, 3].map(writeLoop));
        const deleted = await after(200, () =>
          t.http().delete('/users/me').set(writer.auth).send({ password: TEST_PASSWORD }),
        );
        await loops;

        const counts: Record<number, number> = {};
        statuses.forEach((status) => (counts[status] = (counts[status] ?? 0) + 1));
        const listed = await t.http().get('/posts?limit=100').set(reader.auth).expect(200);
        const { rows } = await t.db.query('SELECT count(*)::int AS n FROM posts WHERE owner_id = $1', [writer.id]);
        rounds.push({
          round,
          counts,
          unexpectedStatuses: statuses.filter((status) => ![201, 401, 404].includes(status)),
          deleteStatus: deleted.status,
          // The writers did race the deletion: posts went in before it, and were refused after it.
          raced: statuses.includes(201) && statuses.includes(401),
          readerSeesReader: listed.body.some((post: { owner_id: number }) => post.owner_id === reader.id),
          listedPostsOfDeleted: listed.body.filter((post: { owner_id: number }) => post.owner_id === writer.id).length,
          rowsOfDeleted: rows[0].n,
          deletedTokenAnswer: (await me(t, writer.token)).status,
        });
      }
    } finally {
      agent.destroy();
    }
    expect(rounds).toEqual(
      rounds.map((round) => ({
        ...round,
        unexpectedStatuses: [],
        deleteStatus: 204,
        raced: true,
        readerSeesReader: true,
        listedPostsOfDeleted: 0,
        rowsOfDeleted: 0,
        deletedTokenAnswer: 401,
      })),
    );
  });
});

describe('POST /login racing PUT /users/me/password', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ BCRYPT_ROUNDS: '10', LOGIN_MAX_FAILURES: '1000' });
  });

  afterAll(() => t.close());

  it('leaves no session of a login with the old password working, and keeps only the session that changed it', async () => {
    const user = await registerUser(t); // session A
    const newPassword = 'a brand new passphrase for the race';
    const logins = Array.from({ length: 10 }, (_, index) =>
      after(index * 150, () => logInWith(t, user.email, TEST_PASSWORD)),
    );
    const change = after(60, () =>
      t
        .http()
        .put('/users/me/password')
        .set(user.auth)
        .send({ current_password: TEST_PASSWORD, new_password: newPassword }),
    );
    const changed = await change;
    const answers = await Promise.all(logins);
    const statuses = answers.map((answer) => answer.status);
    expect(changed.status).toBe(204);

    const workingTokens = await stillWorking(t, answers.filter((answer) => answer.status === 200).map(tokensOf));
    const sessions = await t.http().get('/auth/sessions').set(user.auth).expect(200);
    const listed = sessions.body.map((session: { id: number; current: boolean }) => ({
      id: session.id,
      current: session.current,
    }));
    const oldPassword = (await logInWith(t, user.email, TEST_PASSWORD)).status;
    const newPasswordLogin = (await logInWith(t, user.email, newPassword)).status;
    expect({
      loginStatuses: statuses,
      workingTokens,
      sessions: listed,
      oldPassword,
      newPassword: newPasswordLogin,
    }).toEqual({
      loginStatuses: statuses,
      workingTokens: [],
      sessions: [{ id: user.sessionId, current: true }],
      oldPassword: 401,
      newPassword: 200,
    });
  });
});

describe('Parallel failed logins', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ LOGIN_MAX_FAILURES: '5' });
  });

  afterAll(() => t.close());

  it('checks exactly 5 of 16 parallel wrong-password logins and answers 429 with Retry-After to the rest', async () => {
    const user = await registerUser(t);
    const answers = await Promise.all(
      Array.from({ length: 16 }, () => logInWith(t, user.email, 'not the password at all')),
    );
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status !== 401 && status !== 429)).toEqual([]);
    expect(statuses.filter((status) => status === 401).length).toBe(5);
    for (const refused of answers.filter((answer) => answer.status === 429)) {
      expectProblem(refused, 429);
      expect(refused.headers['retry-after']).toMatch(/^[1-9][0-9]*$/);
    }

    const right = await logInWith(t, user.email, TEST_PASSWORD);
    expectProblem(right, 429);
    expect(right.headers['retry-after']).toMatch(/^[1-9][0-9]*$/);
  });
});

describe('Form bodies on JSON routes', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(() => t.close());

  it('answers 415 to a form on every JSON route and writes nothing; POST /login and POST /auth/refresh still take forms', async () => {
    const user = await registerUser(t);
    const post = await t.http().post('/posts').set(user.auth).send({ title: 'Mine', content: 'x' }).expect(201);
    const before = await snapshotTables(t.db);

    const forms: [string, () => PromiseLike<Response>][] = [
      [
        'POST /users',
        () => t.http().post('/users').type('form').send({ email: 'form@example.com', password: TEST_PASSWORD }),
      ],
      ['POST /posts', () => t.http().post('/posts').set(user.auth).type('form').send({ title: 'Form', content: 'y' })],
      [
        'PUT /posts/{id}',
        () =>
          t
            .http()
            .put(`/posts/${post.body.id}`)
            .set(user.auth)
            .type('form')
            .send({ title: 'Replaced', content: 'z', published: 'true' }),
      ],
      [
        'PATCH /posts/{id}',
        () => t.http().patch(`/posts/${post.body.id}`).set(user.auth).type('form').send({ title: 'Changed' }),
      ],
      ['POST /vote', () => t.http().post('/vote').set(user.auth).type('form').send({ post_id: post.body.id, dir: 1 })],
      [
        'PUT /users/me/password',
        () =>
          t
            .http()
            .put('/users/me/password')
            .set(user.auth)
            .type('form')
            .send({ current_password: TEST_PASSWORD, new_password: 'a password set by a form' }),
      ],
      [
        'DELETE /users/me',
        () => t.http().delete('/users/me').set(user.auth).type('form').send({ password: TEST_PASSWORD }),
      ],
    ];
    const answers: Record<string, string> = {};
    for (const [route, send] of forms) {
      const answer = await send();
      answers[route] = `${answer.status} ${String(answer.headers['content-type']).split(';')[0]}`;
    }
    expect(answers).toEqual(Object.fromEntries(forms.map(([route]) => [route, '415 application/problem+json'])));
    expect(await snapshotTables(t.db)).toEqual(before);

    const login = await logInWith(t, user.email, TEST_PASSWORD).expect(200);
    await t
      .http()
      .post('/auth/refresh')
      .type('form')
      .send({ grant_type: 'refresh_token', refresh_token: login.body.refresh_token })
      .expect(200);
  });
});

describe('Answers of the HTTP parser', () => {
  let t: TestApp;
  let port: number;

  beforeAll(async () => {
    t = await createTestApp();
    await t.app.listen(0, '127.0.0.1');
    port = portOf(t);
  });

  afterAll(() => t.close());

  it('refuses a GET or HEAD that carries a body with 400, even where the answer would be large', async () => {
    const body = Buffer.alloc(256 * 1024, 'a');
    body.write('{"title":"x","content":"');
    body.write('"}', body.length - 2);
    for (const path of ['/openapi.yaml', '/health', '/posts']) {
      const answer = await t
        .http()
        .get(path)
        .set('Content-Type', 'application/json')
        .serialize((bytes: Buffer) => bytes as unknown as string)
        .send(body);
      expectProblem(answer, 400);
      expect(answer.body.detail).toMatch(/take no body/);
      expect(answer.headers['x-request-id']).toBeDefined();
    }
    // Without a body the same routes answer as usual.
    await t.http().get('/openapi.yaml').expect(200);
  });

  it('carry the security headers of every other answer and an X-Request-Id', async () => {
    const health = await t.http().get('/health').expect(200);
    const securityHeaderNames = [
      'content-security-policy',
      'cross-origin-opener-policy',
      'cross-origin-resource-policy',
      'cross-origin-embedder-policy',
      'referrer-policy',
      'strict-transport-security',
      'x-content-type-options',
      'x-frame-options',
    ].filter((name) => name in health.headers);
    expect(securityHeaderNames).toEqual(expect.arrayContaining(['content-security-policy', 'x-content-type-options']));

    const cases: [string, string, number][] = [
      ['bad Content-Length', 'POST /users HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n', 400],
      [
        'Content-Length and Transfer-Encoding',
        'POST /users HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
        400,
      ],
      ['a 20 KB header', `GET /health HTTP/1.1\r\nHost: x\r\nX-Padding: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
    ];
    const seen: Record<string, unknown> = {};
    const expected: Record<string, unknown> = {};
    for (const [name, bytes, status] of cases) {
      const answer = parseRawAnswer(await rawExchange(port, bytes));
      seen[name] = {
        status: answer.status,
        contentType: answer.headers['content-type']?.split(';')[0],
        requestId: (answer.headers['x-request-id'] ?? '').length > 0,
        nosniff: answer.headers['x-content-type-options'],
        cspDefaultNone: (answer.headers['content-security-policy'] ?? '').includes("default-src 'none'"),
        missingSecurityHeaders: securityHeaderNames.filter((header) => !(header in answer.headers)),
      };
      expected[name] = {
        status,
        contentType: 'application/problem+json',
        requestId: true,
        nosniff: 'nosniff',
        cspDefaultNone: true,
        missingSecurityHeaders: [],
      };
    }
    expect(seen).toEqual(expected);
  });
});

describe('Look-alike e-mail addresses', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(() => t.close());

  it('answers 422 naming the email field to invisible, bidirectional-control and full-width characters, and writes nothing', async () => {
    const before = await snapshotTables(t.db);
    const lookAlikes: Record<string, string> = {
      'zero width space': 'ali\u200Bce@example.com',
      'right-to-left override': 'alice\u202E@example.com',
      'zero width no-break space': 'ali\uFEFFce@example.com',
      'soft hyphen': 'ali\u00ADce@example.com',
      'full-width local part': 'ａｌｉｃｅ@example.com',
      'full-width domain': 'alice@ｅｘａｍｐｌｅ.com',
    };
    const answers: Record<string, unknown> = {};
    for (const [name, email] of Object.entries(lookAlikes)) {
      const answer = await t.http().post('/users').send({ email, password: TEST_PASSWORD });
      answers[name] = {
        status: answer.status,
        emailError: (answer.body.errors ?? []).some((error: { field: string }) => error.field === 'email'),
      };
    }
    expect(answers).toEqual(
      Object.fromEntries(Object.keys(lookAlikes).map((name) => [name, { status: 422, emailError: true }])),
    );
    expect(await snapshotTables(t.db)).toEqual(before);

    await t.http().post('/users').send({ email: 'alice@example.com', password: TEST_PASSWORD }).expect(201);
  });
});

describe('Two concurrent password changes', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ BCRYPT_ROUNDS: '10', LOGIN_MAX_FAILURES: '1000' });
  });

  afterAll(() => t.close());

  it('answers one 204 and one 403, and exactly the winner’s new password logs in', async () => {
    const rounds: Record<string, unknown>[] = [];
    for (let round = 1; round <= 3; round += 1) {
      const user = await registerUser(t);
      const passwords = [`first new passphrase ${round}`, `second new passphrase ${round}`];
      const answers = await Promise.all(
        passwords.map((password) =>
          t
            .http()
            .put('/users/me/password')
            .set(user.auth)
            .send({ current_password: TEST_PASSWORD, new_password: password }),
        ),
      );
      const logins: Record<string, number> = { old: (await logInWith(t, user.email, TEST_PASSWORD)).status };
      for (const password of passwords) {
        logins[password] = (await logInWith(t, user.email, password)).status;
      }
      rounds.push({
        round,
        statuses: answers.map((answer) => answer.status).sort(),
        oldPassword: logins.old,
        newPasswords: passwords.map((password) => logins[password]).sort(),
        winnerLogsIn: logins[passwords[answers.findIndex((answer) => answer.status === 204)]] ?? 'no 204',
      });
    }
    expect(rounds).toEqual(
      rounds.map((round) => ({
        ...round,
        statuses: [204, 403],
        oldPassword: 401,
        newPasswords: [200, 401],
        winnerLogsIn: 200,
      })),
    );
  });
});

describe('Loose access-token claims', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(() => t.close());

  it('answers 401 with a Bearer challenge to a token without exp or sid, with iat ahead, or with user_id other than sub', async () => {
    const user = await registerUser(t);
    const other = await registerUser(t);
    const sid = claimsOf(user.token).sid as number;
    const sub = String(user.id);
    const now = Math.floor(Date.now() / 1000);
    const aYear = 365 * 24 * 60 * 60;
    const lifetime = { iat: now, exp: now + 600 };

    const tokens: Record<string, [token: string, status: number]> = {
      'no exp': [craftToken({ sub, user_id: user.id, sid, iat: now }), 401],
      'iat a year ahead': [craftToken({ sub, user_id: user.id, sid, iat: now + aYear, exp: now + aYear + 600 }), 401],
      'user_id of no user': [craftToken({ sub, user_id: user.id + 1000, sid, ...lifetime }), 401],
      'user_id of another user': [craftToken({ sub, user_id: other.id, sid, ...lifetime }), 401],
      'sub of another user': [craftToken({ sub: String(other.id), user_id: user.id, sid, ...lifetime }), 401],
      'no sid': [craftToken({ sub, user_id: user.id, ...lifetime }), 401],
      'well-formed (control)': [craftToken({ sub, user_id: user.id, sid, ...lifetime }), 200],
    };
    const seen: Record<string, unknown> = {};
    const expected: Record<string, unknown> = {};
    for (const [name, [token, status]] of Object.entries(tokens)) {
      const answer = await me(t, token);
      seen[name] = {
        status: answer.status,
        bearerChallenge: String(answer.headers['www-authenticate'] ?? '').startsWith('Bearer'),
      };
      expected[name] = { status, bearerChallenge: status === 401 };
    }
    expect(seen).toEqual(expected);
  });
});

describe('Parallel refreshes of one refresh token', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(() => t.close());

  it('answers one 200 and 409 to the rest, and the session goes on with the tokens of the first', async () => {
    const user = await registerUser(t);
    const answers = await Promise.all(Array.from({ length: 20 }, () => refresh(t, user.refreshToken)));
    const statuses = answers.map((answer) => answer.status);
    expect({
      ok: statuses.filter((s) => s === 200).length,
      conflict: statuses.filter((s) => s === 409).length,
    }).toEqual({
      ok: 1,
      conflict: 19,
    });
    for (const conflict of answers.filter((answer) => answer.status === 409)) {
      expectProblem(conflict, 409);
      expect(conflict.body.detail).toMatch(/first refresh/i);
    }

    const winner = tokensOf(answers.find((answer) => answer.status === 200) as Response);
    expect((await me(t, winner.access)).status).toBe(200);
    const renewed = await refresh(t, winner.refresh).expect(200);
    const sessions = await t
      .http()
      .get('/auth/sessions')
      .set('Authorization', `Bearer ${renewed.body.access_token}`)
      .expect(200);
    expect(sessions.body.map((session: { id: number }) => session.id)).toContain(user.sessionId);
  });

  it('takes a spent refresh token presented after REFRESH_REUSE_GRACE_SECONDS as theft and ends the session', async () => {
    const graced = await createTestApp({ REFRESH_REUSE_GRACE_SECONDS: '1' });
    try {
      const user = await registerUser(graced);
      const rotated = tokensOf(await refresh(graced, user.refreshToken).expect(200));
      await sleep(1_500);
      expectProblem(await refresh(graced, user.refreshToken), 401);
      expectProblem(await me(graced, rotated.access), 401);
    } finally {
      await graced.close();
    }
  });
});

describe('Deep pages and slow statements', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(() => t.close());

  it('answers 422 to skip beyond 10,000, pointing at the cursor of the Link header, and 200 to skip=10000', async () => {
    const user = await registerUser(t);
    const deep = await t.http().get('/posts?skip=10001').set(user.auth);
    expectProblem(deep, 422);
    const skipError = (deep.body.errors ?? []).find((error: { field: string }) => error.field === 'skip');
    expect(skipError).toEqual(expect.objectContaining({ message: expect.any(String) }));
    expect(`${skipError.message} ${deep.body.detail}`).toMatch(/cursor|Link/i);
    await t.http().get('/posts?skip=10000').set(user.auth).expect(200);
  });

  it('answers 503 with Retry-After and a detail about the request, not a database outage, when a statement times out', async () => {
    const slow = await createTestApp({ DATABASE_STATEMENT_TIMEOUT_MS: '300' });
    try {
      const user = await registerUser(slow);
      const locker = await slow.db.connect();
      try {
        await locker.query('BEGIN');
        await locker.query('LOCK TABLE posts IN ACCESS EXCLUSIVE MODE');
        const response = await slow.http().get('/posts').set(user.auth);
        expectProblem(response, 503);
        expect(response.headers['retry-after']).toMatch(/^[1-9][0-9]*$/);
        expect(response.body.detail).not.toMatch(/unavailable|database is down|cannot be reached/i);
        expect(response.body.detail).toMatch(/too long|timed? ?out/i);
      } finally {
        await locker.query('ROLLBACK');
        locker.release();
      }
      await slow.http().get('/posts').set(user.auth).expect(200);
    } finally {
      await slow.close();
    }
  });
});
