import { HttpStatus, Inject, Injectable, Logger } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, IsNull, MoreThan, Repository } from 'typeorm';
import type { AuthenticatedUser, ClientInfo } from '../common/identity/authenticated-user';
import { ProblemException } from '../common/problem';
import { hashSecretToken, newSecretToken } from '../common/identity/secret-token';
import { AUTH_CONFIG, type AuthConfig } from '../config/configuration';
import { Sql } from '../database/sql';
import { SessionCache } from './session-cache';
import { Session } from './session.entity';
import {
  endSession,
  findLiveSessionUser,
  insertSessionForCurrentCredentials,
  revokeReusedSession,
  type SessionUserRow,
} from './sessions.queries';

export interface RefreshedSession {
  sessionId: number;
  userId: number;
  refreshToken: string;
}

/** How long a revoked session stays in the table before the cleanup removes it. */
const KEEP_REVOKED_MS = 24 * 60 * 60 * 1000;

const newRefreshToken = newSecretToken;
const hashRefreshToken = hashSecretToken;

export const REFRESH_TOKEN_JUST_SPENT =
  'This refresh token was spent a moment ago by another request of this session; use the tokens that the first refresh returned.';

export function invalidRefreshTokenException(): ProblemException {
  return new ProblemException(
    HttpStatus.UNAUTHORIZED,
    'The refresh token is not valid (unknown, already used, expired or revoked); log in again with POST /login.',
  );
}

@Injectable()
export class SessionsService {
  private readonly logger = new Logger(SessionsService.name);

  constructor(
    @InjectRepository(Session) private readonly sessions: Repository<Session>,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    private readonly sql: Sql,
    private readonly cache: SessionCache,
  ) {}

  /**
   * Call right after committing anything that ends a session of the user or changes what
   * the token check returns (their e-mail, username, role, verification, credentials,
   * disabling, deletion): this instance checks the database again from the next request
   * on. Other instances learn it from the database's notification (see SessionCache).
   */
  forgetCached(userId: number): void {
    this.cache.forget(userId);
  }

  /**
   * Starts a session for a login; returns its id and its first refresh token, or
   * undefined when the user is gone or their credentials changed after the version the
   * password check saw (see `insertSessionForCurrentCredentials`).
   */
  async start(userId: number, credentialVersion: number, client: ClientInfo): Promise<RefreshedSession | undefined> {
    const refreshToken = newRefreshToken();
    const rows = await this.sql.rows<{ id: number }>(
      insertSessionForCurrentCredentials({
        userId,
        credentialVersion,
        refreshTokenHash: hashRefreshToken(refreshToken),
        expiresAt: this.newExpiry(),
        userAgent: client.userAgent?.slice(0, 512) ?? null,
        ip: client.ip?.slice(0, 64) ?? null,
      }),
    );
    return rows[0] && { sessionId: rows[0].id, userId, refreshToken };
  }

  /**
   * Spends a refresh token and hands out its successor. The conditional UPDATE lets
   * exactly one of two concurrent refreshes with the same token win. A token that was
   * already spent is taken as stolen and its session is revoked, unless it was spent
   * within the grace window: then another tab or a retry lost the race (409).
   */
  async rotate(refreshToken: string, client: ClientInfo): Promise<RefreshedSession> {
    const presented = hashRefreshToken(refreshToken);
    const next = newRefreshToken();
    const rotated = await this.sessions
      .createQueryBuilder()
      .update(Session)
      .set({
        refreshTokenHash: hashRefreshToken(next),
        previousRefreshTokenHash: presented,
        rotatedAt: () => 'now()',
        lastUsedAt: () => 'now()',
        expiresAt: this.newExpiry(),
      })
      .where('refresh_token_hash = :presented', { presented })
      .andWhere('revoked_at IS NULL')
      .andWhere('expires_at > now()')
      .returning('id, user_id')
      .execute();
    const row = (rotated.raw as { id: number; user_id: number }[])[0];
    if (row) {
      return { sessionId: row.id, userId: row.user_id, refreshToken: next };
    }
    const graceSeconds = this.config.refreshReuseGraceSeconds;
    const reused = await this.sql.rows<{ id: number; user_id: number }>(
      revokeReusedSession(presented, graceSeconds, {
        ip: client.ip?.slice(0, 64) ?? null,
        userAgent: client.userAgent?.slice(0, 512) ?? null,
      }),
    );
    if (reused.length > 0) {
      this.cache.forget(reused[0].user_id);
      this.logger.warn(`A spent refresh token was presented again: session ${reused[0].id} revoked`);
      throw invalidRefreshTokenException();
    }
    const justSpent = await this.sessions.exists({
      where: { previousRefreshTokenHash: presented, revokedAt: IsNull(), expiresAt: MoreThan(new Date()) },
    });
    if (justSpent) {
      throw new ProblemException(HttpStatus.CONFLICT, REFRESH_TOKEN_JUST_SPENT);
    }
    throw invalidRefreshTokenException();
  }

  /**
   * The user of a live session: the one lookup the guard makes per request, answered by
   * this instance's cache while it can vouch for it (see SessionCache), else by the database.
   */
  async findLiveSessionUser(sessionId: number, userId: number): Promise<AuthenticatedUser | undefined> {
    const cached = this.cache.get(sessionId, userId);
    if (cached) {
      return cached;
    }
    const generation = this.cache.current;
    const [row] = await this.sql.rows<SessionUserRow>(findLiveSessionUser(sessionId, userId));
    if (!row) {
      return undefined;
    }
    const user: AuthenticatedUser = {
      id: row.id,
      email: row.email,
      username: row.username,
      role: row.role,
      emailVerified: row.email_verified,
      createdAt: row.created_at,
      sessionId,
    };
    this.cache.fill(generation, user, row.expires_at);
    return user;
  }

  /** The user's sessions that can still be used, most recently used first. */
  listLive(userId: number): Promise<Session[]> {
    return this.sessions.find({
      where: { userId, revokedAt: IsNull(), expiresAt: MoreThan(new Date()) },
      order: { lastUsedAt: 'DESC', id: 'DESC' },
    });
  }

  /** Ends one of the user's live sessions and records why; false when there is no such session. */
  async revoke(
    userId: number,
    sessionId: number,
    why: 'logout' | 'session_ended',
    client: ClientInfo,
  ): Promise<boolean> {
    const ended = await this.sql.rows(
      endSession(sessionId, userId, why, {
        ip: client.ip?.slice(0, 64) ?? null,
        userAgent: client.userAgent?.slice(0, 512) ?? null,
      }),
    );
    this.cache.forget(userId);
    return ended.length > 0;
  }

  /** Ends every session of the user but one (after a password change), in the caller's transaction. */
  async revokeAllExcept(userId: number, keepSessionId: number, manager?: EntityManager): Promise<void> {
    await (manager ?? this.sessions.manager)
      .createQueryBuilder()
      .update(Session)
      .set({ revokedAt: () => 'now()' })
      .where('user_id = :userId', { userId })
      .andWhere('id <> :keepSessionId', { keepSessionId })
      .andWhere('revoked_at IS NULL')
      .execute();
  }

  /** Ends every session of the user (a password reset, a disabled account), in the caller's transaction. */
  async revokeAll(userId: number, manager: EntityManager): Promise<void> {
    await manager
      .createQueryBuilder()
      .update(Session)
      .set({ revokedAt: () => 'now()' })
      .where('user_id = :userId', { userId })
      .andWhere('revoked_at IS NULL')
      .execute();
  }

  /** Keeps the table from growing without bound: expired sessions, and revoked ones after a day. */
  @Interval('sessions-cleanup', 60 * 60 * 1000)
  async removeEndedSessions(): Promise<number> {
    const result = await this.sessions
      .createQueryBuilder()
      .delete()
      .from(Session)
      .where('expires_at < now()')
      .orWhere('revoked_at < :revokedBefore', { revokedBefore: new Date(Date.now() - KEEP_REVOKED_MS) })
      .execute();
    return result.affected ?? 0;
  }

  private newExpiry(): Date {
    return new Date(Date.now() + this.config.refreshTokenExpiresInSeconds * 1000);
  }
}
