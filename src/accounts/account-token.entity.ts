import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { User } from '../users/user.entity';

export type AccountTokenPurpose = 'email_verification' | 'password_reset';

/** A single-use token sent by mail; only its SHA-256 is kept. */
@Entity({ name: 'account_tokens' })
@Check('account_tokens_purpose_known', "purpose IN ('email_verification', 'password_reset')")
// At most one unused token per account and purpose: a newer one spends the older.
@Index('account_tokens_one_unused', ['userId', 'purpose'], { unique: true, where: 'used_at IS NULL' })
export class AccountToken {
  @PrimaryGeneratedColumn({ primaryKeyConstraintName: 'account_tokens_pkey' })
  id: number;

  @Column({ name: 'user_id', type: 'integer' })
  userId: number;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'account_tokens_user_fkey' })
  user: User;

  @Column({ type: 'varchar', length: 32 })
  purpose: AccountTokenPurpose;

  @Index('account_tokens_token_hash_key', { unique: true })
  @Column({ name: 'token_hash', type: 'char', length: 64 })
  tokenHash: string;

  /** The address the token was sent to: it proves that one, and no later one. */
  @Column({ type: 'varchar', length: 254 })
  email: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'used_at', type: 'timestamptz', nullable: true })
  usedAt: Date | null;
}
