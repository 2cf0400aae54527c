import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A password-reset request, known address or not: the request only writes this row, so
 * that it costs the same either way; the background work turns it into a token and a
 * mail when an account uses the address, and into nothing otherwise.
 */
@Entity({ name: 'password_reset_requests' })
export class PasswordResetRequest {
  @PrimaryGeneratedColumn({ type: 'bigint', primaryKeyConstraintName: 'password_reset_requests_pkey' })
  id: string;

  @Column({ type: 'varchar', length: 254 })
  email: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /** Where the request came from, for the account's activity. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  ip: string | null;

  @Column({ name: 'user_agent', type: 'varchar', length: 512, nullable: true })
  userAgent: string | null;
}
