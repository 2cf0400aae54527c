import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { appConfig, type AppConfig } from '../config/configuration';
import { ClientThrottlerGuard } from './client-throttler.guard';
import { CounterStorage } from './counter-storage';

/** RATE_LIMIT_MAX requests per client address per RATE_LIMIT_WINDOW_SECONDS, on every route but the health checks. */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [appConfig.KEY],
      useFactory: ({ rateLimit, redisUrl }: AppConfig) => ({
        throttlers: [{ name: 'default', limit: rateLimit.max, ttl: rateLimit.windowMs }],
        storage: new CounterStorage(redisUrl),
      }),
    }),
  ],
  providers: [{ provide: APP_GUARD, useClass: ClientThrottlerGuard }],
})
export class RateLimitModule {}
