import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A mail waiting to go out, or gone: written in the transaction that needs it (with its
 * token), sent by the outbox worker of any instance. Its bodies are cleared once the
 * SMTP server has accepted it, so that the links in them stay nowhere.
 */
@Entity({ name: 'mail_outbox' })
@Index('mail_outbox_due', ['nextAttemptAt'], { where: 'sent_at IS NULL AND failed_at IS NULL' })
export class OutboxMail {
  @PrimaryGeneratedColumn({ type: 'bigint', primaryKeyConstraintName: 'mail_outbox_pkey' })
  id: string;

  @Column({ type: 'varchar', length: 254 })
  recipient: string;

  @Column({ type: 'varchar', length: 200 })
  subject: string;

  @Column({ name: 'text_body', type: 'text', nullable: true })
  textBody: string | null;

  @Column({ name: 'html_body', type: 'text', nullable: true })
  htmlBody: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /** When a worker may take it next: now for a new mail; after the backoff, or the lease of a claim. */
  @Column({ name: 'next_attempt_at', type: 'timestamptz', default: () => 'now()' })
  nextAttemptAt: Date;

  /** How many times a worker has taken it; also fences a late worker's outcome. */
  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @Column({ name: 'last_error', type: 'varchar', length: 500, nullable: true })
  lastError: string | null;

  @Column({ name: 'sent_at', type: 'timestamptz', nullable: true })
  sentAt: Date | null;

  /** Set when it could not be sent for 24 hours: nobody tries again. */
  @Column({ name: 'failed_at', type: 'timestamptz', nullable: true })
  failedAt: Date | null;
}
