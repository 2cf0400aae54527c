import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { User } from '../users/user.entity';

/** One login: what a refresh token renews and what logout ends. */
@Entity({ name: 'sessions' })
export class Session {
  @PrimaryGeneratedColumn({ primaryKeyConstraintName: 'sessions_pkey' })
  id: number;

  @Index('sessions_user_id_idx')
  @Column({ name: 'user_id', type: 'integer' })
  userId: number;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'sessions_user_id_fkey' })
  user: User;

  /** SHA-256 (hex) of the current refresh token; the token itself is never stored. */
  @Index('sessions_refresh_token_hash_key', { unique: true })
  @Column({ name: 'refresh_token_hash', type: 'char', length: 64 })
  refreshTokenHash: string;

  /** The hash of the token this one replaced: presenting it again reveals a stolen token. */
  @Index('sessions_previous_refresh_token_hash_idx')
  @Column({ name: 'previous_refresh_token_hash', type: 'char', length: 64, nullable: true })
  previousRefreshTokenHash: string | null;

  /** When the previous refresh token was spent: presenting it again soon after is a lost race, not theft. */
  @Column({ name: 'rotated_at', type: 'timestamptz', nullable: true })
  rotatedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'last_used_at', type: 'timestamptz', default: () => 'now()' })
  lastUsedAt: Date;

  @Index('sessions_expires_at_idx')
  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  @Column({ name: 'user_agent', type: 'varchar', length: 512, nullable: true })
  userAgent: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ip: string | null;
}
