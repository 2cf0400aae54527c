import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import request from 'supertest';
import TestAgent from 'supertest/lib/agent';
import { createApp, type CreateAppOptions } from '../../src/app.setup';
import { EnvironmentVariables, OPTIONAL_VARIABLES } from '../../src/config/environment';
import { problemBreaches } from './problem';

export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';
export const TEST_PASSWORD = 'correct horse battery staple';

/** One instance of the real app, driven over HTTP (supertest) and looked at through its database. */
export interface TestApp {
  /** The running instance; a new one after `restart()` or `stop()` and `start()`. */
  readonly app: NestFastifyApplication;
  http: () => TestAgent;
  /** A pool on the app's database, to look at the tables directly (one pool for a group of instances). */
  db: Pool;
  databaseUrl: string;
  /** Closes this instance and, once every instance of its group is closed, the pool and the database. */
  close: () => Promise<void>;
  /** Closes the app only: the database (or DATA_DIR) stays for `start()`. */
  stop: () => Promise<void>;
  /** Starts the stopped app again, with the environment and options it was created with. */
  start: () => Promise<void>;
  /** `stop()`, then `start()`. */
  restart: () => Promise<void>;
}

/** An instance started with `freshDatabase: false`: the app finds (or starts) its database itself. */
export type TestAppWithoutDatabase = Omit<TestApp, 'db' | 'databaseUrl'>;

export interface TestAppsOptions {
  /** Passed to every instance's `createApp` (a log destination, ...). */
  appOptions?: CreateAppOptions;
  /**
   * The DATABASE_URL the instances get instead of the fresh database's own, for a test that puts
   * something in between (a TCP proxy it can cut). The pool of `db` still goes straight to the database.
   */
  connectThrough?: (databaseUrl: string) => string | Promise<string>;
  /**
   * false: no fresh database and no DATABASE_URL from the harness, for a test of how the app finds
   * its own database (set DATA_DIR and DATABASE_URL: undefined in `env`). The handles have no `db`.
   */
  freshDatabase?: boolean;
}

function databaseUrlFor(database: string): string {
  const url = new URL(process.env.TEST_DATABASE_URL as string);
  url.pathname = `/${database}`;
  return url.toString();
}

/** A fresh, empty database on the test server, dropped by `close()`. */
export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `test_${randomBytes(6).toString('hex')}`;
  const admin = new Pool({ connectionString: process.env.TEST_DATABASE_URL, max: 1 });
  // pool.end() does not wait for its last client to close: when the run ends right after the
  // last file's drop, stopping the server can still reach that client, and an 'error' without
  // a listener would crash Jest.
  admin.on('error', () => undefined);
  await admin.query(`CREATE DATABASE ${name}`);
  return {
    url: databaseUrlFor(name),
    drop: async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

/** The environment this test file started with (Jest gives each file its own copy). */
const ORIGINAL_ENV = { ...process.env };

/**
 * Sets the environment the app reads, as a deployment would: the file's original
 * environment, less anything the app reads from it, plus test defaults and overrides
 * (undefined removes a variable). Nothing leaks from one app of a file to the next.
 */
function setTestEnvironment(overrides: Record<string, string | undefined> = {}): void {
  for (const name of Object.keys(process.env)) {
    delete process.env[name];
  }
  const appVariables = Object.keys(new EnvironmentVariables()).concat(OPTIONAL_VARIABLES);
  const inherited = Object.entries(ORIGINAL_ENV).filter(([name]) => !appVariables.includes(name));
  const settings: Record<string, string | undefined> = {
    ...Object.fromEntries(inherited),
    NODE_ENV: 'test',
    JWT_SECRET: TEST_JWT_SECRET,
    BCRYPT_ROUNDS: '4',
    LOG_LEVEL: 'fatal',
    // Every request of a test comes from 127.0.0.1; the login limit tests set their own.
    LOGIN_MAX_ATTEMPTS_PER_CLIENT: '100000',
    // Likewise for the global per-client limit; its own tests set a small one.
    RATE_LIMIT_MAX: '10000000',
    ...overrides,
  };
  for (const [name, value] of Object.entries(settings)) {
    if (value !== undefined) {
      process.env[name] = value;
    }
  }
}

/** Starts the real app (the same `createApp` as `main.ts`) and waits until Fastify is ready. */
async function startApp(options: CreateAppOptions = {}): Promise<NestFastifyApplication> {
  const app = await createApp(options);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

/**
 * `count` instances of the app, as behind a load balancer: one environment (the test defaults
 * plus `env`; undefined removes a variable) and one fresh database, dropped when the last
 * instance is closed. The instances start one after the other, as deployments roll out.
 * Every spec gets its apps here (or from `createTestApp`, the one-instance case).
 */
export async function createTestApps(
  count: number,
  env: Record<string, string | undefined>,
  options: TestAppsOptions & { freshDatabase: false },
): Promise<TestAppWithoutDatabase[]>;
export async function createTestApps(
  count: number,
  env?: Record<string, string | undefined>,
  options?: TestAppsOptions,
): Promise<TestApp[]>;
export async function createTestApps(
  count: number,
  env: Record<string, string | undefined> = {},
  { appOptions = {}, connectThrough, freshDatabase = true }: TestAppsOptions = {},
): Promise<TestApp[] | TestAppWithoutDatabase[]> {
  const database = freshDatabase ? await createTestDatabase() : undefined;
  const db = database && new Pool({ connectionString: database.url, max: 2 });
  // The final DROP DATABASE ... WITH (FORCE) may end a connection the pool is still closing.
  db?.on('error', () => undefined);
  let open = count;
  const release = async () => {
    open -= 1;
    if (open === 0) {
      await db?.end();
      await database?.drop();
    }
  };
  let appEnv = env;
  if (database) {
    appEnv = { DATABASE_URL: connectThrough ? await connectThrough(database.url) : database.url, ...env };
  }
  const start = async () => {
    // Again at each start: another group of the same file may have set its own since.
    setTestEnvironment(appEnv);
    return startApp(appOptions);
  };

  const instances: TestApp[] = [];
  try {
    for (let index = 0; index < count; index += 1) {
      instances.push(instanceOf(await start(), start, release, db as Pool, database?.url as string));
    }
  } catch (error) {
    // Close what started, then drop the database: the instance that failed holds nothing.
    open = instances.length + 1;
    await Promise.allSettled(instances.map((instance) => instance.close()));
    await release().catch(() => undefined);
    throw error;
  }
  return instances;
}

function instanceOf(
  first: NestFastifyApplication,
  launch: () => Promise<NestFastifyApplication>,
  release: () => Promise<void>,
  db: Pool,
  databaseUrl: string,
): TestApp {
  let running: NestFastifyApplication | undefined = first;
  let closed = false;
  const current = () => {
    if (!running) {
      throw new Error('The app is stopped: start() it first');
    }
    return running;
  };
  const stop = async () => {
    const app = running;
    running = undefined;
    await app?.close();
  };
  const start = async () => {
    if (running || closed) {
      throw new Error(`The app is ${closed ? 'closed' : 'running'}: nothing to start`);
    }
    running = await launch();
  };
  return {
    get app() {
      return current();
    },
    http: () => request(current().getHttpServer()),
    db,
    databaseUrl,
    stop,
    start,
    restart: async () => {
      await stop();
      await start();
    },
    close: async () => {
      await stop();
      if (!closed) {
        closed = true;
        await release();
      }
    },
  };
}

/** The app on a database of its own. */
export async function createTestApp(
  env: Record<string, string | undefined> = {},
  options: CreateAppOptions = {},
): Promise<TestApp> {
  const [instance] = await createTestApps(1, env, { appOptions: options });
  return instance;
}

export interface TestSession {
  token: string;
  refreshToken: string;
  /** The `sid` claim of the access token. */
  sessionId: number;
  auth: { Authorization: string };
}

export interface TestUser extends TestSession {
  id: number;
  email: string;
  password: string;
}

let userCounter = 0;

/** Logs in with the OAuth2 form: a new session. */
export async function logIn(
  testApp: Pick<TestApp, 'http'>,
  email: string,
  password = TEST_PASSWORD,
  headers: Record<string, string> = {},
): Promise<TestSession> {
  const login = await testApp
    .http()
    .post('/login')
    .set(headers)
    .type('form')
    .send({ username: email, password })
    .expect(200);
  const token = login.body.access_token as string;
  const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as { sid: number };
  return {
    token,
    refreshToken: login.body.refresh_token as string,
    sessionId: claims.sid,
    auth: { Authorization: `Bearer ${token}` },
  };
}

/** Registers a user through the API and logs them in. */
export async function registerUser(testApp: Pick<TestApp, 'http'>, email?: string): Promise<TestUser> {
  userCounter += 1;
  const address = email ?? `user${userCounter}-${randomBytes(3).toString('hex')}@example.com`;
  const created = await testApp.http().post('/users').send({ email: address, password: TEST_PASSWORD }).expect(201);
  return {
    id: created.body.id,
    email: created.body.email,
    password: TEST_PASSWORD,
    ...(await logIn(testApp, address)),
  };
}

/**
 * Asks again every 5 ms while the answer is 200, for at most `withinMs` after the first ask: another
 * instance's session cache hears of an ended session through PostgreSQL's NOTIFY, and the contract
 * gives it 100 ms (the instance that ended the session refuses at once).
 */
export async function answerWithin(
  ask: () => PromiseLike<request.Response>,
  withinMs = 100,
): Promise<request.Response> {
  const started = Date.now();
  let answer = await ask();
  while (answer.status === 200 && Date.now() - started < withinMs) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    answer = await ask();
  }
  return answer;
}

/** Every row of the service's tables, to prove a refused request changed nothing. */
export async function snapshotTables(db: Pool): Promise<Record<string, unknown[]>> {
  const snapshot: Record<string, unknown[]> = {};
  for (const table of ['users', 'posts', 'votes', 'comments', 'idempotency_keys']) {
    snapshot[table] = (await db.query(`SELECT * FROM ${table} ORDER BY 1, 2`)).rows;
  }
  return snapshot;
}

/** Asserts the answer is RFC 9457 problem details with this status (the rule is in ./problem.ts). */
export function expectProblem(response: request.Response, status: number): void {
  const breaches = problemBreaches(
    { status: response.status, contentType: response.headers['content-type'], body: response.body },
    status,
  );
  if (breaches.length > 0) {
    const answer = `${response.status} ${response.headers['content-type'] ?? '(no Content-Type)'} ${response.text}`;
    throw new Error(`Expected ${status} problem+json:\n  ${breaches.join('\n  ')}\nGot: ${answer.slice(0, 600)}`);
  }
}
