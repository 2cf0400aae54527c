import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { User } from '../users/user.entity';

@Entity({ name: 'posts' })
// The list order (created_at DESC, id DESC); TypeORM cannot describe DESC keys, the migration makes it.
@Index('posts_created_at_id_idx', { synchronize: false })
// One author's posts in the list order (and the foreign key's index): DESC keys again.
@Index('posts_owner_id_created_at_id_idx', { synchronize: false })
// The `sort=top` order (votes_count DESC, created_at DESC, id DESC): DESC keys again.
@Index('posts_votes_count_created_at_id_idx', { synchronize: false })
// Trigram GIN index for the substring search; TypeORM cannot describe it either.
@Index('posts_title_trgm_idx', { synchronize: false })
/** A row of `posts` (named apart from Nest's `@Post()` decorator, which the controllers use). */
export class PostEntity {
  @PrimaryGeneratedColumn({ primaryKeyConstraintName: 'posts_pkey' })
  id: number;

  @Column({ type: 'varchar', length: 200 })
  title: string;

  @Column({ type: 'text' })
  content: string;

  @Column({ type: 'boolean', default: true })
  published: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /** Moves with title, content and published only (not votes or comments); the INSERT's now() equals created_at. */
  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;

  /** The strong ETag `"<version>"`: bumped with every change of title, content or published. */
  @Column({ type: 'integer', default: 1 })
  version: number;

  /** How many votes the post has: kept by triggers on `votes`, in the vote's transaction (migration PostCounters). */
  @Column({ name: 'votes_count', type: 'integer', default: 0, insert: false, update: false })
  votesCount: number;

  /** How many comments the post has: kept by triggers on `comments`, likewise. */
  @Column({ name: 'comments_count', type: 'integer', default: 0, insert: false, update: false })
  commentsCount: number;

  @Column({ name: 'owner_id', type: 'integer' })
  ownerId: number;

  @ManyToOne(() => User, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'owner_id', foreignKeyConstraintName: 'posts_owner_id_fkey' })
  owner: User;
}
