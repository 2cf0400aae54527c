import { Inject, Injectable } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { InjectRepository } from '@nestjs/typeorm';
import { type EntityManager, LessThan, Repository } from 'typeorm';
import type { ActivityOrigin } from '../common/identity/authenticated-user';
import { AUTH_CONFIG, type AuthConfig } from '../config/configuration';
import { ActivityEvent, type ActivityType } from './activity-event.entity';

/** The security activity of accounts: written beside what it records, read by the account's owner. */
@Injectable()
export class ActivityService {
  constructor(
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

  /** A page of the user's events, newest first, after the event `beforeId` (keyset paging). */
  list(userId: number, limit: number, beforeId?: string): Promise<ActivityEvent[]> {
    return this.events.find({
      where: beforeId === undefined ? { userId } : { userId, id: LessThan(beforeId) },
      order: { id: 'DESC' },
      take: limit,
    });
  }

  /** Events are kept ACTIVITY_RETENTION_DAYS days. */
  @Interval('activity-retention', 60 * 60 * 1000)
  async forgetOld(): Promise<number> {
    const result = await this.events
      .createQueryBuilder()
      .delete()
      .where('created_at < now() - make_interval(days => :days)', { days: this.config.activityRetentionDays })
      .execute();
    return result.affected ?? 0;
  }
}
