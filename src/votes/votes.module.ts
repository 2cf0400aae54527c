import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { IdempotencyModule } from '../idempotency/idempotency.module';
import { PostsModule } from '../posts/posts.module';
import { Vote } from './vote.entity';
import { PostVoteController } from './post-vote.controller';
import { VotesController } from './votes.controller';
import { VotesService } from './votes.service';

@Module({
  imports: [IdempotencyModule, TypeOrmModule.forFeature([Vote]), PostsModule],
  controllers: [VotesController, PostVoteController],
  providers: [VotesService],
})
export class VotesModule {}
