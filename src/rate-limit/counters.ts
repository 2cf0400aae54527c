import { HttpStatus, Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import Redis from 'ioredis';
import { RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { ProblemException } from '../common/problem';
import { APP_CONFIG, type AppConfig } from '../config/configuration';

/**
 * Where the service's counters live (the per-client request limit, the login limits):
 * in Redis when REDIS_URL is set, through one client for the whole app, so that every
 * instance counts against the same limits; in this process's memory otherwise.
 */
@Injectable()
export class Counters implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Counters');
  private readonly redis?: Redis;

  constructor(@Inject(APP_CONFIG) { redisUrl }: AppConfig) {
    if (redisUrl) {
      // No offline queue and a single retry: while Redis is away a command fails at once
      // (and the in-memory insurance answers) instead of requests waiting for a reconnection.
      this.redis = new Redis(redisUrl, { enableOfflineQueue: false, lazyConnect: true, maxRetriesPerRequest: 1 });
      this.redis.on('error', (error: Error) => this.logger.warn(`Redis: ${error.message}`));
    }
  }

  async onModuleInit(): Promise<void> {
    // Unreachable at start: ioredis keeps trying in the background.
    await this.redis?.connect().catch((error: Error) => {
      this.logger.warn(`Redis is not reachable (${error.message}): limits count in memory until it is`);
    });
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.redis && this.redis.status !== 'end') {
      await this.redis.quit().catch(() => this.redis?.disconnect());
    }
  }

  /**
   * A fixed-window counter named `name`: in Redis when there is a client, with an
   * in-memory limiter that answers while Redis is unreachable; in memory otherwise.
   */
  fixedWindow(name: string, points: number, durationSeconds: number): RateLimiterAbstract {
    const memory = new RateLimiterMemory({ keyPrefix: name, points, duration: durationSeconds });
    if (!this.redis) {
      return memory;
    }
    return new RateLimiterRedis({
      storeClient: this.redis,
      keyPrefix: `posts-api:${name}`,
      points,
      duration: durationSeconds,
      insuranceLimiter: memory,
    });
  }
}

/**
 * Counts one for `key`; beyond the limit, refuses with 429 whose `detail` gives the reason
 * and when to try again, and `Retry-After`.
 */
export async function consumeOrRefuse(limiter: RateLimiterAbstract, key: string, reason: string): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (rejection) {
    if (!(rejection instanceof RateLimiterRes)) {
      throw rejection instanceof Error ? rejection : new Error(String(rejection));
    }
    const seconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
    throw new ProblemException(HttpStatus.TOO_MANY_REQUESTS, `${reason}; try again in ${seconds} seconds.`, {
      'Retry-After': String(seconds),
    });
  }
}
