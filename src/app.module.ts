import { DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { DestinationStream, Logger } from 'pino';
import { ConfigModule } from '@nestjs/config';
import { ScheduleModule } from '@nestjs/schedule';
import { AuthModule } from './auth/auth.module';
import { appConfig, authConfig, databaseConfig } from './config/configuration';
import { validateEnvironment } from './config/environment';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { HomeModule } from './home/home.module';
import { FormBodyGuard } from './http/form-body.guard';
import { LifecycleModule } from './lifecycle/lifecycle.module';
import { LoggingModule } from './logging/logging.module';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { PostsModule } from './posts/posts.module';
import { UsersModule } from './users/users.module';
import { VotesModule } from './votes/votes.module';

export interface AppModuleOptions {
  /** Read `.env` from the working directory (on by default; tests turn it off). */
  readEnvFile?: boolean;
  /** Where the JSON log lines go instead of stdout (tests read them). */
  logDestination?: DestinationStream;
}

interface AppModuleSettings extends AppModuleOptions {
  /** The process's pino logger (see `createApp`). */
  logger: Logger;
}

@Module({})
export class AppModule {
  /** Built per call, so each app reads the environment as it is when it is created. */
  static forRoot({ readEnvFile = true, logger }: AppModuleSettings): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({
          isGlobal: true,
          ignoreEnvFile: !readEnvFile,
          load: [appConfig, databaseConfig, authConfig],
          validate: (env) => {
            validateEnvironment(env);
            return env;
          },
        }),
        LoggingModule.forRoot(logger),
        LifecycleModule,
        ScheduleModule.forRoot(),
        DatabaseModule,
        RateLimitModule,
        HomeModule,
        AuthModule,
        UsersModule,
        PostsModule,
        VotesModule,
        HealthModule,
      ],
      // Before the token check: a form sent to a JSON route is refused whoever sends it.
      providers: [{ provide: APP_GUARD, useClass: FormBodyGuard }],
    };
  }
}
