import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { Client, type Notification } from 'pg';
import type { AuthenticatedUser } from '../common/identity/authenticated-user';
import { AUTH_CONFIG, type AuthConfig } from '../config/configuration';
import { Sql } from '../database/sql';

/** The channel the triggers of migration SessionChangeNotifications notify on (and the heartbeats). */
export const SESSION_CHANGES_CHANNEL = 'session_changes';
/** The listening connection's application_name, as pg_stat_activity shows it. */
export const SESSION_LISTENER_NAME = 'posts-api-session-listener';

/** A heartbeat goes round through PostgreSQL this often... */
const HEARTBEAT_MS = 25;
/**
 * ...and the cache answers only while the last one that came back was sent at most this
 * long ago: every change committed before it has then reached this instance (PostgreSQL
 * delivers notifications in commit order), so another instance's logout is honoured here
 * within this bound even if this process or its listener stalls.
 */
const MAX_SILENCE_MS = 100;
/**
 * Beats stop this long after the cache was last asked, and start again with the next
 * request (which checks the database, the last beat being old by then): each beat is a
 * tiny transaction with a commit record in the WAL, so an idle service stays idle, and a
 * replica that replays with a delay can catch up with it.
 */
const IDLE_AFTER_MS = 1_000;
const RECONNECT_MS = [250, 1_000, 5_000];
const MAX_ENTRIES = 100_000;

interface Entry {
  user: AuthenticatedUser;
  /** When the session expires (ms since the epoch). */
  expiresAt: number;
}

/**
 * The live sessions this instance has checked, so that most authenticated requests need
 * no query at all. Correct because every change that can end a session or change what the
 * check returns (a revoked session; a user's e-mail, username, role, verification,
 * credentials, disabling or deletion) does two things:
 * - on this instance, the service that made it calls `forget(userId)` right after its
 *   commit, so the next request here checks the database ("at once");
 * - triggers on `sessions` and `users` NOTIFY the user's id at commit, and every instance's
 *   listening connection forgets that user's sessions when it arrives.
 * The cache answers only while the listener is connected and a heartbeat sent through it
 * less than MAX_SILENCE_MS ago has come back; otherwise (down, reconnecting, stalled) every
 * request checks the database as without a cache, and reconnecting empties it (what was
 * notified meanwhile is lost). A fill that started before a `forget` is dropped
 * (`generation`), so a check racing a logout cannot put the ended session back.
 */
@Injectable()
export class SessionCache implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('SessionCache');
  private readonly entries = new LRUCache<string, Entry>({
    max: MAX_ENTRIES,
    dispose: (_entry, key) => this.unindex(key),
  });
  /** The cache keys of each user's sessions, for `forget`. */
  private readonly keysOfUser = new Map<number, Set<string>>();
  private generation = 0;
  private listener?: Client;
  private listening = false;
  private stopped = false;
  private reconnects = 0;
  private heartbeat?: NodeJS.Timeout;
  private beating = false;
  private reconnectTimer?: NodeJS.Timeout;
  /** Heartbeats in flight: their number → when they were sent. */
  private readonly sent = new Map<number, number>();
  private nextBeat = 0;
  private lastBeatSentAt = -Infinity;
  private lastAskedAt = -Infinity;
  private readonly nonce = randomBytes(6).toString('base64url');

  constructor(
    private readonly sql: Sql,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.sessionCache) {
      this.connect();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.drop();
    await this.listener?.end().catch(() => undefined);
  }

  /** Whether the cache may answer now (see the class). */
  get usable(): boolean {
    return this.listening && Date.now() - this.lastBeatSentAt <= MAX_SILENCE_MS;
  }

  /** The cached user of a live session, or undefined: check the database (and `fill`). */
  get(sessionId: number, userId: number): AuthenticatedUser | undefined {
    this.lastAskedAt = Date.now();
    if (!this.usable) {
      return undefined;
    }
    const entry = this.entries.get(keyOf(sessionId, userId));
    return entry && entry.expiresAt > Date.now() ? entry.user : undefined;
  }

  /** The generation to hand to `fill` after the database check: take it before the check. */
  get current(): number {
    return this.generation;
  }

  /**
   * Remembers what the check found, unless something was forgotten since `generation`.
   * Listening is enough (no recent beat needed): every change committed after the check's
   * read will be notified, and a lost connection empties the cache.
   */
  fill(generation: number, user: AuthenticatedUser, expiresAt: Date): void {
    if (generation !== this.generation || !this.listening || user.sessionId === undefined) {
      return;
    }
    const key = keyOf(user.sessionId, user.id);
    this.entries.set(key, { user, expiresAt: expiresAt.getTime() });
    let keys = this.keysOfUser.get(user.id);
    if (!keys) {
      keys = new Set();
      this.keysOfUser.set(user.id, keys);
    }
    keys.add(key);
  }

  /** Forgets the user's sessions; call it right after committing a change to them or to the user. */
  forget(userId: number): void {
    this.generation += 1;
    for (const key of this.keysOfUser.get(userId) ?? []) {
      this.entries.delete(key);
    }
    this.keysOfUser.delete(userId);
  }

  private unindex(key: string): void {
    const userId = Number(key.slice(key.indexOf(':') + 1));
    const keys = this.keysOfUser.get(userId);
    keys?.delete(key);
    if (keys?.size === 0) {
      this.keysOfUser.delete(userId);
    }
  }

  /** Forgets everything: what is notified while not listening is lost. */
  private drop(): void {
    this.listening = false;
    this.beating = false;
    clearInterval(this.heartbeat);
    this.generation += 1;
    this.entries.clear();
    this.keysOfUser.clear();
    this.sent.clear();
  }

  private connect(): void {
    const listener = new Client({ ...this.sql.pool.options, application_name: SESSION_LISTENER_NAME });
    this.listener = listener;
    let failed = false;
    const fail = (error?: Error) => {
      if (failed) {
        return;
      }
      failed = true;
      this.drop();
      listener.removeAllListeners('notification');
      void listener.end().catch(() => undefined);
      if (this.stopped) {
        return;
      }
      const delay = RECONNECT_MS[Math.min(this.reconnects, RECONNECT_MS.length - 1)];
      this.reconnects += 1;
      this.logger.warn(
        `The session cache is off (${error?.message ?? 'connection ended'}): every request checks its session in the database; listening again in ${delay} ms.`,
      );
      this.reconnectTimer = setTimeout(() => this.connect(), delay).unref();
    };
    listener.on('error', fail);
    listener.on('end', () => fail());
    listener.on('notification', (message) => this.onNotification(message));
    listener
      .connect()
      .then(() => listener.query(`LISTEN ${SESSION_CHANGES_CHANNEL}`))
      .then(() => {
        if (failed || this.stopped) {
          return;
        }
        this.drop();
        this.listening = true;
        this.reconnects = 0;
        this.heartbeat = setInterval(() => this.beat(listener, fail), HEARTBEAT_MS).unref();
        this.beat(listener, fail);
      })
      .catch((error: unknown) => fail(error instanceof Error ? error : new Error(String(error))));
  }

  private beat(listener: Client, fail: (error?: Error) => void): void {
    // One beat at a time: while one is still running (a slow or dead connection), none is
    // queued behind it, and `usable` turns false once the last one is MAX_SILENCE_MS old.
    if (this.beating || Date.now() - this.lastAskedAt > IDLE_AFTER_MS) {
      return;
    }
    this.beating = true;
    const beat = (this.nextBeat += 1);
    this.sent.set(beat, Date.now());
    if (this.sent.size > 1_000) {
      this.sent.clear();
    }
    listener.query('SELECT pg_notify($1, $2)', [SESSION_CHANGES_CHANNEL, `hb:${this.nonce}:${beat}`]).then(
      () => {
        this.beating = false;
      },
      (error: unknown) => {
        this.beating = false;
        fail(error instanceof Error ? error : new Error(String(error)));
      },
    );
  }

  private onNotification({ payload = '' }: Notification): void {
    if (payload.startsWith('hb:')) {
      const [, nonce, beat] = payload.split(':');
      const sentAt = nonce === this.nonce ? this.sent.get(Number(beat)) : undefined;
      if (sentAt !== undefined) {
        this.lastBeatSentAt = Math.max(this.lastBeatSentAt, sentAt);
        for (const number of this.sent.keys()) {
          if (number <= Number(beat)) {
            this.sent.delete(number);
          }
        }
      }
      return;
    }
    const userId = Number(payload);
    if (Number.isSafeInteger(userId)) {
      this.forget(userId);
    }
  }
}

function keyOf(sessionId: number, userId: number): string {
  return `${sessionId}:${userId}`;
}
