import { Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { User } from '../users/user.entity';

/**
 * A row of `idempotency_keys`: one `Idempotency-Key` of one user, claimed by the first
 * request that carried it and holding its answer once that request completed. Deleted
 * with the account (ON DELETE CASCADE) and, hourly, 24 hours after the claim.
 */
@Entity({ name: 'idempotency_keys' })
export class IdempotencyKey {
  // The primary key (user_id, key) also serves the cascade of an account deletion.
  @PrimaryColumn({ name: 'user_id', type: 'integer', primaryKeyConstraintName: 'idempotency_keys_pkey' })
  userId: number;

  @ManyToOne(() => User, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'idempotency_keys_user_id_fkey' })
  user: User;

  /** 1 to 255 printable ASCII characters, as the client sent it. */
  @PrimaryColumn({ type: 'varchar', length: 255, primaryKeyConstraintName: 'idempotency_keys_pkey' })
  key: string;

  /** SHA-256 (hex) of the method, the path and the canonical JSON body. */
  @Column({ name: 'request_hash', type: 'char', length: 64 })
  requestHash: string;

  /** The answer, once the first request completed. */
  @Column({ name: 'status_code', type: 'smallint', nullable: true })
  statusCode: number | null;

  /** The JSON body of the answer as it was sent (text keeps its bytes; jsonb would reorder keys). */
  @Column({ name: 'response_body', type: 'text', nullable: true })
  responseBody: string | null;

  @Column({ type: 'varchar', length: 2048, nullable: true })
  location: string | null;

  // The hourly cleanup deletes by the claim's age.
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'completed_at', type: 'timestamptz', nullable: true })
  completedAt: Date | null;
}
