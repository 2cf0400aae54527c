import { DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import type { Logger } from 'pino';
import { AccountsModule } from './accounts/accounts.module';
import { ActivityModule } from './activity/activity.module';
import { AdminModule } from './admin/admin.module';
import { AuthModule } from './auth/auth.module';
import { CommentsModule } from './comments/comments.module';
import { FormBodyGuard } from './common/form-body.guard';
import { ConfigurationModule } from './config/config.module';
import type { Configuration } from './config/configuration';
import { DatabaseModule } from './database/database.module';
import { ReadYourWritesInterceptor } from './database/read-your-writes.interceptor';
import { EntranceModule } from './entrance/entrance.module';
import { IdempotencyModule } from './idempotency/idempotency.module';
import { HealthModule } from './health/health.module';
import { HomeModule } from './home/home.module';
import { LifecycleModule } from './lifecycle/lifecycle.module';
import { LoggingModule } from './logging/logging.module';
import { MailModule } from './mail/mail.module';
import { PostsModule } from './posts/posts.module';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { UsersModule } from './users/users.module';
import { VotesModule } from './votes/votes.module';

export interface AppModuleSettings {
  /** The configuration, loaded and validated once (`loadConfiguration`). */
  configuration: Configuration;
  /** The process's pino logger (see `createApp`). */
  logger: Logger;
}

@Module({})
export class AppModule {
  /** Built per app, so that each app of a test process gets its own configuration. */
  static forRoot({ configuration, logger }: AppModuleSettings): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigurationModule.forRoot(configuration),
        LoggingModule.forRoot(logger),
        LifecycleModule,
        ScheduleModule.forRoot(),
        DatabaseModule,
        RateLimitModule,
        EntranceModule,
        HomeModule,
        MailModule,
        AuthModule,
        UsersModule,
        AccountsModule,
        ActivityModule,
        PostsModule,
        VotesModule,
        CommentsModule,
        IdempotencyModule,
        AdminModule,
        HealthModule,
      ],
      // Before the token check: a form sent to a JSON route is refused whoever sends it.
      providers: [
        { provide: APP_GUARD, useClass: FormBodyGuard },
        // With read replicas: after each write of a caller, where the primary stands (read-your-writes).
        // Without them it is not installed at all: a route with no interceptor runs without
        // rxjs, which took 11 KB of allocation and ~10 us of CPU per authenticated GET.
        ...(configuration.database.replicaUrls.length > 0
          ? [{ provide: APP_INTERCEPTOR, useClass: ReadYourWritesInterceptor }]
          : []),
      ],
    };
  }
}
