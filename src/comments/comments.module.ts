import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { IdempotencyModule } from '../idempotency/idempotency.module';
import { ActivityModule } from '../activity/activity.module';
import { PostsModule } from '../posts/posts.module';
import { Comment } from './comment.entity';
import { CommentsController } from './comments.controller';
import { CommentsService } from './comments.service';

@Module({
  imports: [IdempotencyModule, TypeOrmModule.forFeature([Comment]), PostsModule, ActivityModule],
  controllers: [CommentsController],
  providers: [CommentsService],
})
export class CommentsModule {}
