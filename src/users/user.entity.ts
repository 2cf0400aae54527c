import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

@Entity({ name: 'users' })
@Check('users_email_lowercase', 'email = lower(email)')
// Unique on lower(email); an expression index TypeORM cannot describe, made by the migration.
@Index('users_email_lower_key', { synchronize: false })
export class User {
  @PrimaryGeneratedColumn({ primaryKeyConstraintName: 'users_pkey' })
  id: number;

  @Column({ type: 'varchar', length: 254 })
  email: string;

  @Column({ name: 'password_hash', type: 'varchar', length: 100, select: false })
  passwordHash: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /** Bumped by every change of the password: a login whose check saw an older version starts no session. */
  @Column({ name: 'credential_version', type: 'integer', default: 1 })
  credentialVersion: number;
}
