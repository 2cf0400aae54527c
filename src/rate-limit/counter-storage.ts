import { Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type Redis from 'ioredis';
import { RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { closeRedis, connectRedis, createRedisClient } from '../common/redis-client';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/**
 * @nestjs/throttler's counters kept by rate-limiter-flexible: a fixed window per key,
 * O(1) per request (the throttler's own memory storage keeps one timestamp per hit),
 * in Redis when REDIS_URL is set, so every instance counts against the same limit,
 * with an in-memory limiter that answers while Redis is unreachable.
 */
export class CounterStorage implements ThrottlerStorage, OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('RateLimit');
  private readonly redis?: Redis;
  private readonly limiters = new Map<string, RateLimiterAbstract>();

  constructor(redisUrl?: string) {
    if (redisUrl) {
      this.redis = createRedisClient(redisUrl, this.logger);
    }
  }

  async onModuleInit(): Promise<void> {
    if (this.redis) {
      await connectRedis(this.redis, this.logger, 'request limits count per instance');
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.redis) {
      await closeRedis(this.redis);
    }
  }

  async increment(
    key: string,
    ttlMs: number,
    limit: number,
    _blockDurationMs: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    try {
      const result = await this.limiter(throttlerName, limit, ttlMs).consume(key);
      return record(result, false);
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) {
        return record(rejection, true);
      }
      throw rejection;
    }
  }

  /** One limiter per throttler and limit, made on first use. */
  private limiter(name: string, points: number, ttlMs: number): RateLimiterAbstract {
    const duration = Math.max(1, Math.ceil(ttlMs / 1000));
    const id = `${name}:${points}:${duration}`;
    let limiter = this.limiters.get(id);
    if (!limiter) {
      const memory = new RateLimiterMemory({ keyPrefix: `requests-${name}`, points, duration });
      limiter = this.redis
        ? new RateLimiterRedis({
            storeClient: this.redis,
            keyPrefix: `posts-api:requests-${name}`,
            points,
            duration,
            insuranceLimiter: memory,
          })
        : memory;
      this.limiters.set(id, limiter);
    }
    return limiter;
  }
}

function record(result: RateLimiterRes, isBlocked: boolean): ThrottlerStorageRecord {
  const secondsLeft = Math.max(1, Math.ceil(result.msBeforeNext / 1000));
  return {
    totalHits: result.consumedPoints,
    timeToExpire: secondsLeft,
    isBlocked,
    timeToBlockExpire: isBlocked ? secondsLeft : 0,
  };
}
