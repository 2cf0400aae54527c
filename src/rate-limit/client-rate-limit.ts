import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type Redis from 'ioredis';
import { RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import { PROBLEM_CONTENT_TYPE, problem } from '../common/problem';
import { closeRedis, connectRedis, createRedisClient, fixedWindowLimiter } from '../common/redis-client';
import { appConfig, type AppConfig } from '../config/configuration';

/**
 * The global per-client limit: RATE_LIMIT_MAX requests per client address per
 * RATE_LIMIT_WINDOW_SECONDS, all paths together (unknown ones and the docs too) but
 * the health checks. It runs in a Fastify `onRequest` hook (`src/http/request-gate.ts`),
 * before Nest sees the request, so a refused request costs one counter increment. The
 * counters (fixed windows, rate-limiter-flexible) live in Redis when REDIS_URL is set,
 * shared by every instance, with an in-memory limiter that answers while Redis is
 * unreachable. The address is `request.ip`: X-Forwarded-For counts only from the
 * proxies TRUST_PROXY names.
 */
@Injectable()
export class ClientRateLimit implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('RateLimit');
  private readonly redis?: Redis;
  private readonly limiter: RateLimiterAbstract;
  private readonly limit: string;

  constructor(@Inject(appConfig.KEY) { rateLimit, redisUrl }: AppConfig) {
    if (redisUrl) {
      this.redis = createRedisClient(redisUrl, this.logger);
    }
    this.limiter = fixedWindowLimiter(this.redis, 'requests', rateLimit.max, rateLimit.windowSeconds);
    this.limit = String(rateLimit.max);
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

  /** Counts the request, and answers it with 429 instead of calling `done` beyond the limit. */
  check(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    this.limiter.consume(request.ip).then(
      (result) => {
        this.setHeaders(reply, result);
        done();
      },
      (rejection: unknown) => {
        if (!(rejection instanceof RateLimiterRes)) {
          // Neither Redis nor memory answered: let the request through rather than fail it.
          this.logger.warn(`Rate limit not counted: ${String(rejection)}`);
          done();
          return;
        }
        this.setHeaders(reply, rejection);
        const seconds = secondsLeft(rejection);
        void reply
          .code(429)
          .header('Retry-After', String(seconds))
          .type(PROBLEM_CONTENT_TYPE)
          .send(problem(429, `Too many requests from your address; try again in ${seconds} seconds.`));
      },
    );
  }

  private setHeaders(reply: FastifyReply, result: RateLimiterRes): void {
    void reply.headers({
      'X-RateLimit-Limit': this.limit,
      'X-RateLimit-Remaining': String(result.remainingPoints),
      'X-RateLimit-Reset': String(secondsLeft(result)),
    });
  }
}

function secondsLeft(result: RateLimiterRes): number {
  return Math.max(1, Math.ceil(result.msBeforeNext / 1000));
}
