import type { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';

/**
 * A Redis client for counters that have an in-memory fallback: no offline queue and a
 * single retry, so while Redis is away a command fails at once (and the fallback
 * answers) instead of requests waiting for a reconnection.
 */
export function createRedisClient(url: string, logger: Logger): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    lazyConnect: true,
    maxRetriesPerRequest: 1,
  });
  redis.on('error', (error: Error) => logger.warn(`Redis: ${error.message}`));
  return redis;
}

/** Connects, or logs why not and what happens meanwhile (ioredis keeps trying in the background). */
export async function connectRedis(redis: Redis, logger: Logger, meanwhile: string): Promise<void> {
  await redis.connect().catch((error: Error) => {
    logger.warn(`Redis is not reachable (${error.message}): ${meanwhile} until it is`);
  });
}

export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status !== 'end') {
    await redis.quit().catch(() => redis.disconnect());
  }
}

/**
 * A fixed-window counter named `name`: in Redis when there is a client (every instance
 * counts against the same limit), with an in-memory limiter that answers while Redis is
 * unreachable; in this process's memory otherwise.
 */
export function fixedWindowLimiter(
  redis: Redis | undefined,
  name: string,
  points: number,
  durationSeconds: number,
): RateLimiterAbstract {
  const memory = new RateLimiterMemory({ keyPrefix: name, points, duration: durationSeconds });
  if (!redis) {
    return memory;
  }
  return new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: `posts-api:${name}`,
    points,
    duration: durationSeconds,
    insuranceLimiter: memory,
  });
}
