import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ActivityEvent } from './activity-event.entity';
import { ActivityController } from './activity.controller';
import { ActivityService } from './activity.service';

/**
 * The security activity of accounts: every feature that changes an account records its
 * event through `ActivityService` in its own transaction; the owner reads them at
 * `GET /users/me/activity`.
 */
@Module({
  imports: [TypeOrmModule.forFeature([ActivityEvent])],
  controllers: [ActivityController],
  providers: [ActivityService],
  exports: [ActivityService],
})
export class ActivityModule {}
