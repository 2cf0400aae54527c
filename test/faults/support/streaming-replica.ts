import { execFile } from 'node:child_process';
import { appendFile, chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Pool } from 'pg';
import { findFreePort } from '../../../src/database/embedded-postgres';
import { postgresProcesses } from './postgres-processes';

const run = promisify(execFile);

/** Debian's PostgreSQL 15: unlike the embedded binaries, it has pg_basebackup. */
export const POSTGRES_BIN = '/usr/lib/postgresql/15/bin';
/** The database the app uses on both servers. */
const DATABASE = 'posts';

/** PostgreSQL refuses to run as root: then every command runs as the `postgres` system user. */
const AS_ROOT = process.getuid?.() === 0;

async function postgresCommand(command: string, args: string[]): Promise<string> {
  const [file, fileArgs] = AS_ROOT
    ? ['runuser', ['-u', 'postgres', '--', join(POSTGRES_BIN, command), ...args]]
    : [join(POSTGRES_BIN, command), args];
  try {
    return (await run(file, fileArgs, { timeout: 60_000 })).stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed:\n${stdout ?? ''}${stderr ?? ''}`);
  }
}

/** One PostgreSQL server of the test: its folder, port and log. */
export class TestServer {
  constructor(
    readonly name: string,
    readonly dataDir: string,
    readonly port: number,
  ) {}

  /** The app's URL; the password is there to be hidden (the servers trust local connections). */
  get url(): string {
    return `postgres://postgres:not-shown@127.0.0.1:${this.port}/${DATABASE}`;
  }

  get logFile(): string {
    return `${this.dataDir}.log`;
  }

  async start(): Promise<void> {
    await postgresCommand('pg_ctl', ['-D', this.dataDir, '-l', this.logFile, '-w', '-t', '60', 'start']);
  }

  /** `fast` ends the sessions and stops; `immediate` stops at once, like a crash. */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await postgresCommand('pg_ctl', ['-D', this.dataDir, '-m', mode, '-w', '-t', '60', 'stop']);
  }

  /**
   * SIGSTOP to the postmaster and every process it started: the server keeps its sockets
   * open and answers nothing, as a frozen host or a network partition looks. `thaw()` undoes it.
   */
  freeze(): number[] {
    const frozen = postgresProcesses(this.dataDir);
    frozen.forEach((pid) => process.kill(pid, 'SIGSTOP'));
    return frozen;
  }

  thaw(frozen: number[]): void {
    frozen.forEach((pid) => process.kill(pid, 'SIGCONT'));
  }

  /** Changes a setting in postgresql.conf (the last line wins) and reloads it. */
  async set(name: string, value: string): Promise<void> {
    await appendFile(join(this.dataDir, 'postgresql.conf'), `${name} = '${value}'\n`);
    await postgresCommand('pg_ctl', ['-D', this.dataDir, 'reload']);
  }

  async logTail(lines = 30): Promise<string> {
    const text = await readFile(this.logFile, 'utf8').catch(() => '(no log)');
    return text.split('\n').slice(-lines).join('\n');
  }
}

export interface PrimaryAndStandby {
  primary: TestServer;
  standby: TestServer;
  /** A small pool on the primary's `posts` database, for the test's own checks. */
  primaryPool: Pool;
  /** A small pool on the standby's `posts` database. */
  standbyPool: Pool;
  cleanUp(): Promise<void>;
}

/**
 * A primary and a streaming standby made from it with `pg_basebackup -R -X stream -C`,
 * each on a free port in a scratch folder, the standby replaying `applyDelay` behind
 * (`recovery_min_apply_delay`). Both load pg_stat_statements, so a test can count the
 * statements each one ran.
 */
export async function startPrimaryAndStandby(applyDelay: string): Promise<PrimaryAndStandby> {
  const folder = await mkdtemp(join(tmpdir(), 'posts-api-replicas-'));
  if (AS_ROOT) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: group } = await run('id', ['-g', 'postgres']);
    await chown(folder, Number(stdout.trim()), Number(group.trim()));
  }
  const primary = new TestServer('primary', join(folder, 'primary'), await findFreePort());
  const standby = new TestServer('standby', join(folder, 'standby'), await findFreePort());
  const pools: Pool[] = [];
  const cleanUp = async () => {
    await Promise.all(pools.map((pool) => pool.end().catch(() => undefined)));
    for (const server of [standby, primary]) {
      await server.stop('immediate').catch(() => undefined);
    }
    await rm(folder, { recursive: true, force: true });
  };
  try {
    await postgresCommand('initdb', [
      '-D',
      primary.dataDir,
      '-U',
      'postgres',
      '--auth=trust',
      '--no-locale',
      '-E',
      'UTF8',
    ]);
    await appendFile(
      join(primary.dataDir, 'postgresql.conf'),
      [
        `port = ${primary.port}`,
        "listen_addresses = '127.0.0.1'",
        "unix_socket_directories = ''",
        'wal_level = replica',
        'max_wal_senders = 5',
        "shared_preload_libraries = 'pg_stat_statements'",
        // A test cluster: speed over durability.
        'fsync = off',
        'full_page_writes = off',
        '',
      ].join('\n'),
    );
    await primary.start();
    const admin = new Pool({ connectionString: `postgres://postgres@127.0.0.1:${primary.port}/postgres`, max: 1 });
    await admin.query(`CREATE DATABASE ${DATABASE}`);
    await admin.end();
    const primaryPool = new Pool({ connectionString: primary.url, max: 2 });
    pools.push(primaryPool);
    primaryPool.on('error', () => undefined);
    await primaryPool.query('CREATE EXTENSION pg_stat_statements');

    await postgresCommand('pg_basebackup', [
      '-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres',
      '-D', standby.dataDir, '-R', '-X', 'stream', '-C', '-S', 'standby', '-c', 'fast',
    ]); // prettier-ignore
    // After the copied settings, so these win.
    await appendFile(
      join(standby.dataDir, 'postgresql.conf'),
      [`port = ${standby.port}`, `recovery_min_apply_delay = '${applyDelay}'`, ''].join('\n'),
    );
    await standby.start();
    const standbyPool = new Pool({ connectionString: standby.url, max: 2 });
    pools.push(standbyPool);
    standbyPool.on('error', () => undefined);
    const [{ recovering }] = (
      await standbyPool.query<{ recovering: boolean }>('SELECT pg_is_in_recovery() AS recovering')
    ).rows;
    if (!recovering) {
      throw new Error('the standby is not in recovery');
    }
    return { primary, standby, primaryPool, standbyPool, cleanUp };
  } catch (error) {
    const logs = `${await primary.logTail()}\n--- standby ---\n${await standby.logTail()}`;
    await cleanUp();
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n--- primary ---\n${logs}`);
  }
}

/** Waits until the standby has replayed everything the primary had written when called. */
export async function waitForReplay(servers: PrimaryAndStandby, timeoutMs = 20_000): Promise<void> {
  const [{ lsn }] = (await servers.primaryPool.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows;
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const { rows } = await servers.standbyPool
      .query<{ done: boolean }>('SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS done', [lsn])
      .catch(() => ({ rows: [{ done: false }] }));
    if (rows[0].done) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the standby did not replay up to ${lsn} within ${timeoutMs} ms`);
}

/**
 * How many times the standby ran the app's reads: a page of posts, one post, comments, a
 * user (pg_stat_statements, by the statements' own text).
 */
export async function readsOnStandby(servers: PrimaryAndStandby): Promise<number> {
  // The app's statements name its tables; the test's own probes (SELECT 1 ...) and the polls do not count.
  const { rows } = await servers.standbyPool.query<{ calls: string | null }>(
    `SELECT sum(calls) AS calls FROM pg_stat_statements
     WHERE query ~ '^SELECT .*\\m(posts|comments|users)\\M' AND query !~ '^SELECT 1 FROM'`,
  );
  return Number(rows[0].calls ?? 0);
}
