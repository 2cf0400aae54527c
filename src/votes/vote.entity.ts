import { Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { PostEntity } from '../posts/post.entity';
import { User } from '../users/user.entity';

@Entity({ name: 'votes' })
export class Vote {
  @PrimaryColumn({ name: 'user_id', type: 'integer', primaryKeyConstraintName: 'votes_pkey' })
  userId: number;

  // Counting a post's votes reads this index, never the whole table.
  @Index('votes_post_id_idx')
  @PrimaryColumn({ name: 'post_id', type: 'integer', primaryKeyConstraintName: 'votes_pkey' })
  postId: number;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'votes_user_id_fkey' })
  user: User;

  @ManyToOne(() => PostEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'post_id', foreignKeyConstraintName: 'votes_post_id_fkey' })
  post: PostEntity;
}
