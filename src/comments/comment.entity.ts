import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { PostEntity } from '../posts/post.entity';
import { User } from '../users/user.entity';

/** A row of `comments`: deleted with its post and with its author's account (ON DELETE CASCADE). */
@Entity({ name: 'comments' })
// A post's comments in the list order (oldest first, by id): one index range per page.
@Index('comments_post_id_id_idx', ['postId', 'id'])
export class Comment {
  @PrimaryGeneratedColumn({ primaryKeyConstraintName: 'comments_pkey' })
  id: number;

  @Column({ name: 'post_id', type: 'integer' })
  postId: number;

  @ManyToOne(() => PostEntity, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'post_id', foreignKeyConstraintName: 'comments_post_id_fkey' })
  post: PostEntity;

  // An account deletion finds the author's comments through this index, not the whole table.
  @Index('comments_author_id_idx')
  @Column({ name: 'author_id', type: 'integer' })
  authorId: number;

  @ManyToOne(() => User, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'author_id', foreignKeyConstraintName: 'comments_author_id_fkey' })
  author: User;

  /** Trimmed, 1 to 2,000 characters (as PostgreSQL counts them). */
  @Column({ type: 'varchar', length: 2000 })
  content: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
