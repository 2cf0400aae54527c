import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { User } from '../users/user.entity';

/** What can happen to an account, as `GET /users/me/activity` names it. */
export const ACTIVITY_TYPES = [
  'login',
  'login_failed',
  'login_blocked',
  'refresh_reuse_detected',
  'logout',
  'session_ended',
  'password_changed',
  'password_reset_requested',
  'password_reset',
  'email_verification_sent',
  'email_verified',
  'email_changed',
  'username_changed',
  'role_changed',
  'account_disabled',
  'account_enabled',
  'post_removed_by_admin',
  'comment_removed_by_admin',
] as const;
export type ActivityType = (typeof ACTIVITY_TYPES)[number];

/**
 * One event of an account's security activity: what happened, when, from where (the
 * address and user agent of the request, when the account's owner made it) and in which
 * session. Never a password, a token or a hash.
 */
@Entity({ name: 'activity_events' })
@Index('activity_events_user_id_idx', ['userId', 'id'])
export class ActivityEvent {
  @PrimaryGeneratedColumn({ type: 'bigint', primaryKeyConstraintName: 'activity_events_pkey' })
  id: string;

  @Column({ name: 'user_id', type: 'integer' })
  userId: number;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'activity_events_user_fkey' })
  user: User;

  @Column({ type: 'varchar', length: 40 })
  type: ActivityType;

  @Index('activity_events_created_at_idx')
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ip: string | null;

  @Column({ name: 'user_agent', type: 'varchar', length: 512, nullable: true })
  userAgent: string | null;

  /** The session it happened in (no foreign key: ended sessions are deleted, their events stay). */
  @Column({ name: 'session_id', type: 'integer', nullable: true })
  sessionId: number | null;
}
