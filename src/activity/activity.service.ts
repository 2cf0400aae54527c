import { type BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { InjectRepository } from '@nestjs/typeorm';
import { type EntityManager, LessThan, Repository } from 'typeorm';
import type { ActivityOrigin } from '../common/identity/authenticated-user';
import { AUTH_CONFIG, type AuthConfig } from '../config/configuration';
import { Sql } from '../database/sql';
import { ActivityEvent, type ActivityType } from './activity-event.entity';
import { forgetOldEvents, recordRefusedLogin } from './activity.queries';

/** The security activity of accounts: written beside what it records, read by the account's owner. */
/** Old events deleted per statement. */
const RETENTION_BATCH = 5_000;

@Injectable()
export class ActivityService implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Activity');
  /** Refused logins being recorded: a shutdown waits for them before the pool closes. */
  private readonly recording = new Set<Promise<unknown>>();

  constructor(
    private readonly sql: Sql,
    @InjectRepository(ActivityEvent) private readonly events: Repository<ActivityEvent>,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
  ) {}

  /**
   * Records an event, in the caller's transaction when there is one, so that it exists
   * exactly when what it records does.
   */
  async record(manager: EntityManager | undefined, userId: number, type: ActivityType, origin: ActivityOrigin) {
    await (manager ?? this.events.manager).insert(ActivityEvent, {
      userId,
      type,
      ip: origin.ip?.slice(0, 64) ?? null,
      userAgent: origin.userAgent?.slice(0, 512) ?? null,
      sessionId: origin.sessionId,
    });
  }

  /**
   * Records a refused login (see `recordRefusedLogin`) off the answer's path: the 401 or
   * 429 of a known account goes out as fast as that of an unknown name, so its time
   * does not tell that the account exists.
   */
  recordRefusedLogin(userId: number, type: 'login_failed' | 'login_blocked', origin: ActivityOrigin): void {
    const write = this.sql
      .rows(
        recordRefusedLogin(
          userId,
          type,
          { ip: origin.ip?.slice(0, 64) ?? null, userAgent: origin.userAgent?.slice(0, 512) ?? null },
          this.config.login.windowSeconds,
        ),
      )
      .catch((error: unknown) => {
        this.logger.warn(
          `A refused login could not be recorded: ${error instanceof Error ? error.message : String(error)}`,
        );
      })
      .finally(() => this.recording.delete(write));
    this.recording.add(write);
  }

  /** Resolves once every refused login recorded so far is written (or given up). */
  async settled(): Promise<void> {
    while (this.recording.size > 0) {
      await Promise.all(this.recording);
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.settled();
  }

  /** A page of the user's events, newest first, after the event `beforeId` (keyset paging). */
  list(userId: number, limit: number, beforeId?: string): Promise<ActivityEvent[]> {
    return this.events.find({
      where: beforeId === undefined ? { userId } : { userId, id: LessThan(beforeId) },
      order: { id: 'DESC' },
      take: limit,
    });
  }

  /** Events are kept ACTIVITY_RETENTION_DAYS days; the older ones go in batches. */
  @Interval('activity-retention', 60 * 60 * 1000)
  async forgetOld(): Promise<number> {
    let forgotten = 0;
    for (;;) {
      const deleted = await this.sql.affected(forgetOldEvents(this.config.activityRetentionDays, RETENTION_BATCH));
      forgotten += deleted;
      if (deleted < RETENTION_BATCH) {
        return forgotten;
      }
    }
  }
}
