import { Logger } from '@nestjs/common';
import { DatabaseError, Pool, type QueryResultRow } from 'pg';
import { withoutUrlPasswords } from '../config/url-passwords';
import { ConnectionWatchdog } from './connection-watchdog';
import { type ConnectionLimits, poolSettings } from './data-source-options';
import { CURRENT_WAL_POSITION, findWritePosition, REPLAYED_WAL_POSITION } from './replicas.queries';
import type { Reader, Statement } from './statement';

export type ReplicaState = 'up' | 'lagging' | 'down';

/** What `/health/ready` says of one replica. */
export interface ReplicaStatus {
  /** `host:port/database`: never the user or the password. */
  url: string;
  state: ReplicaState;
  /** How old the oldest write is that the replica has not replayed; absent while it is down. */
  lag_ms?: number;
}

export interface ReplicaSettings extends ConnectionLimits {
  urls: string[];
  maxLagMs: number;
}

/** Past PostgreSQL's own statement_timeout, how long the client still waits for an answer. */
const CLIENT_GRACE_MS = 1_000;
/** How often each replica's replayed position (and the primary's) is read. */
const POLL_INTERVAL_MS = 100;
/** A replica that does not answer the poll within this long is down. */
const POLL_TIMEOUT_MS = 1_000;

/** A WAL position (`16/B374D848`) as a number that compares as positions do. */
export function parseLsn(text: string): bigint {
  const [high, low] = text.split('/');
  return (BigInt(`0x${high}`) << 32n) | BigInt(`0x${low}`);
}

/** `host:port/database` of a connection URL, for logs and the health check: no credentials. */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
  } catch {
    return '(unparsable URL)';
  }
}

/** Errors that say the server or the connection is gone, rather than something about one statement. */
function isConnectionFailure(error: unknown): boolean {
  // Not from the server: a socket error, a refused or timed-out connection, "Connection terminated".
  // From the server: connection exceptions (08), shutting down or restarting (57P01-57P03), too many connections.
  return !(error instanceof DatabaseError) || /^(08|57P0[1-3]|53300)/.test(error.code ?? '');
}

class Replica {
  readonly label: string;
  readonly pool: Pool;
  readonly watchdog: ConnectionWatchdog;
  state: ReplicaState = 'down';
  /** From the last successful poll; undefined while down, so a replica that comes back is polled before use. */
  replayed?: bigint;
  lagMs?: number;
  polling = false;
  /** Until the first poll's outcome is logged, a replica that starts down is news too. */
  logged = false;

  constructor(url: string, limits: ConnectionLimits) {
    this.label = describeUrl(url);
    this.pool = new Pool({
      connectionString: url,
      ...poolSettings(limits),
      // A replica slow to give a connection is worth less than the primary: give up on it sooner.
      connectionTimeoutMillis: Math.min(limits.connectTimeoutMs, POLL_TIMEOUT_MS),
    });
    this.watchdog = new ConnectionWatchdog(this.pool, limits.statementTimeoutMs + CLIENT_GRACE_MS);
  }
}

/**
 * The read replicas, their health and the choice of one for a read. Every
 * `POLL_INTERVAL_MS` it reads where the primary's WAL stands and how far each replica has
 * replayed; a replica is `up` while it answers and its lag is at most `maxLagMs`.
 *
 * The lag is measured on this process's clock only: the primary's positions are kept
 * with the moment each was first seen, and a replica's lag is the age of the first
 * position it has not replayed (0 when it has replayed all the primary had). An idle
 * primary writes nothing new, so a caught-up replica stays at 0.
 *
 * A read for a user uses a replica only if its replayed position (a lower bound: replay
 * only moves forward) is at or past that user's last write (`user_write_positions`,
 * looked up on the primary); otherwise the primary answers.
 */
export class Replicas {
  private readonly logger = new Logger('Replicas');
  private readonly replicas: Replica[];
  /** The primary's WAL positions, each with when it was first seen, oldest first. */
  private readonly primaryPositions: { lsn: bigint; seenAt: number }[] = [];
  private readonly timer: NodeJS.Timeout;
  private next = 0;
  private pollingPrimary = false;

  constructor(
    private readonly primary: Pool,
    private readonly settings: ReplicaSettings,
  ) {
    this.replicas = settings.urls.map((url) => new Replica(url, settings));
    for (const replica of this.replicas) {
      // An idle connection the server closed (a replica stopping): without a listener it would crash the app.
      replica.pool.on('error', (error) => this.markDown(replica, error));
    }
    this.timer = setInterval(() => void this.poll(), POLL_INTERVAL_MS).unref();
    void this.poll();
  }

  statuses(): ReplicaStatus[] {
    return this.replicas.map((replica) => ({
      url: replica.label,
      state: replica.state,
      ...(replica.state !== 'down' && { lag_ms: replica.lagMs }),
    }));
  }

  /**
   * Where the reads of `readerId` go: a replica that has replayed the reader's own
   * writes, or the primary when none has (or none is up). A replica that fails a read is
   * marked down and the primary answers it and the rest: the caller never sees a
   * replica's failure.
   */
  async reader(readerId: number): Promise<Reader> {
    let replica = await this.pick(readerId);
    return {
      rows: async <Row extends QueryResultRow>(statement: Statement): Promise<Row[]> => {
        if (replica) {
          try {
            return (await replica.pool.query<Row>(statement)).rows;
          } catch (error) {
            if (isConnectionFailure(error)) {
              this.markDown(replica, error);
            } else {
              this.logger.warn(
                `A read failed on replica ${replica.label} (${describeError(error)}): reading the primary`,
              );
            }
            replica = undefined;
          }
        }
        return (await this.primary.query<Row>(statement)).rows;
      },
    };
  }

  /** A replica that is up and has replayed the reader's last write; undefined: read the primary. */
  private async pick(readerId: number): Promise<Replica | undefined> {
    const usable = this.replicas.filter((replica) => replica.state === 'up');
    if (usable.length === 0) {
      return undefined;
    }
    const [row] = (await this.primary.query<{ lsn: string }>(findWritePosition(readerId))).rows;
    const needed = row ? parseLsn(row.lsn) : 0n;
    // Looked at again after the lookup: a replica may have gone down meanwhile.
    const caughtUp = usable.filter(
      (replica) => replica.state === 'up' && replica.replayed !== undefined && replica.replayed >= needed,
    );
    if (caughtUp.length === 0) {
      return undefined;
    }
    this.next = (this.next + 1) % caughtUp.length;
    return caughtUp[this.next];
  }

  private async poll(): Promise<void> {
    if (this.pollingPrimary) {
      return;
    }
    this.pollingPrimary = true;
    let primaryLsn: bigint;
    try {
      const [row] = (await this.primary.query<{ lsn: string }>(CURRENT_WAL_POSITION)).rows;
      primaryLsn = parseLsn(row.lsn);
    } catch {
      // The primary is the app's own problem (503s, /health); the replicas keep their last state.
      return;
    } finally {
      this.pollingPrimary = false;
    }
    const now = performance.now();
    this.rememberPrimaryPosition(primaryLsn, now);
    await Promise.all(this.replicas.filter((replica) => !replica.polling).map((replica) => this.pollReplica(replica)));
  }

  private rememberPrimaryPosition(lsn: bigint, now: number): void {
    const last = this.primaryPositions.at(-1);
    if (!last || lsn > last.lsn) {
      this.primaryPositions.push({ lsn, seenAt: now });
    }
    // Positions older than twice the largest lag worth telling apart are not needed: keep the newest always.
    const horizon = now - 2 * this.settings.maxLagMs - 1_000;
    while (this.primaryPositions.length > 1 && this.primaryPositions[0].seenAt < horizon) {
      this.primaryPositions.shift();
    }
  }

  private async pollReplica(replica: Replica): Promise<void> {
    replica.polling = true;
    let timeout: NodeJS.Timeout | undefined;
    try {
      const answer = replica.pool.query<{ lsn: string | null }>(REPLAYED_WAL_POSITION);
      const late = new Promise<never>((_resolve, reject) => {
        timeout = setTimeout(() => reject(new Error(`no answer within ${POLL_TIMEOUT_MS} ms`)), POLL_TIMEOUT_MS);
      });
      answer.catch(() => undefined); // when the timeout wins, the late failure is not unhandled
      const [row] = (await Promise.race([answer, late])).rows;
      if (row.lsn === null) {
        throw new Error('it is not a standby (pg_last_wal_replay_lsn() is null)');
      }
      this.markReplayed(replica, parseLsn(row.lsn), performance.now());
    } catch (error) {
      this.markDown(replica, error);
    } finally {
      clearTimeout(timeout);
      replica.polling = false;
    }
  }

  private markReplayed(replica: Replica, replayed: bigint, now: number): void {
    const firstMissing = this.primaryPositions.find((position) => position.lsn > replayed);
    const lagMs = firstMissing ? Math.round(now - firstMissing.seenAt) : 0;
    const state: ReplicaState = lagMs > this.settings.maxLagMs ? 'lagging' : 'up';
    if (state !== replica.state || !replica.logged) {
      replica.logged = true;
      const log = state === 'up' ? 'log' : 'warn';
      this.logger[log](
        state === 'up'
          ? `Replica ${replica.label} is up (lag ${lagMs} ms): reads go to it again`
          : `Replica ${replica.label} lags ${lagMs} ms (more than ${this.settings.maxLagMs}): skipped until it catches up`,
      );
    }
    replica.replayed = replayed;
    replica.lagMs = lagMs;
    replica.state = state;
  }

  private markDown(replica: Replica, error: unknown): void {
    if (replica.state !== 'down') {
      // Reads still waiting on it (a frozen server answers nothing) fail now and go to the primary.
      replica.watchdog.cutCheckedOutConnections();
    }
    if (replica.state !== 'down' || !replica.logged) {
      replica.logged = true;
      this.logger.warn(
        `Replica ${replica.label} is down (${describeError(error)}): reads go elsewhere until it answers`,
      );
    }
    replica.state = 'down';
    replica.replayed = undefined;
    replica.lagMs = undefined;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(
      this.replicas.map(async (replica) => {
        replica.watchdog.onApplicationShutdown();
        await replica.pool.end().catch(() => undefined);
      }),
    );
  }
}

/** An error's message without anything from a connection string. */
function describeError(error: unknown): string {
  return withoutUrlPasswords(error instanceof Error ? error.message : String(error));
}
