import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export type UserRole = 'user' | 'admin';

@Entity({ name: 'users' })
@Check('users_email_lowercase', 'email = lower(email)')
// Unique on lower(email); an expression index TypeORM cannot describe, made by the migration.
@Index('users_email_lower_key', { synchronize: false })
// Trigram indexes for the admins' substring search (expression and GIN: made by the migration).
@Index('users_email_trgm_idx', { synchronize: false })
@Index('users_username_trgm_idx', { synchronize: false })
@Check('users_username_format', "username ~ '^[a-z][a-z0-9_]{2,29}$'")
@Check('users_role_known', "role IN ('user', 'admin')")
export class User {
  @PrimaryGeneratedColumn({ primaryKeyConstraintName: 'users_pkey' })
  id: number;

  @Column({ type: 'varchar', length: 254 })
  email: string;

  /** The handle: lower-case, unique; null until the user sets one. */
  @Index('users_username_key', { unique: true })
  @Column({ type: 'varchar', length: 30, nullable: true })
  username: string | null;

  /** When the current e-mail address was shown to reach its owner; null until then. */
  @Column({ name: 'email_verified_at', type: 'timestamptz', nullable: true })
  emailVerifiedAt: Date | null;

  @Index('users_role_idx')
  @Column({ type: 'varchar', length: 16, default: 'user' })
  role: UserRole;

  /** Set by an admin: the account cannot log in and has no session. */
  @Column({ name: 'disabled_at', type: 'timestamptz', nullable: true })
  disabledAt: Date | null;

  @Column({ name: 'password_hash', type: 'varchar', length: 100, select: false })
  passwordHash: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /** Bumped by every change of the password: a login whose check saw an older version starts no session. */
  @Column({ name: 'credential_version', type: 'integer', default: 1 })
  credentialVersion: number;
}
