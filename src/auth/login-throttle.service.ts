import { HttpStatus, Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type Redis from 'ioredis';
import { createHash } from 'node:crypto';
import { RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import { closeRedis, connectRedis, createRedisClient, fixedWindowLimiter } from '../common/redis-client';
import { ProblemException } from '../common/problem';
import { authConfig, type AuthConfig } from '../config/configuration';

/**
 * The brute-force limits of POST /login: failures per (e-mail, client address), and
 * attempts per client address, in a fixed window. rate-limiter-flexible rather than
 * @nestjs/throttler: the throttler counts every request and cannot count failures
 * only or forget a key after a success, which the contract asks for.
 * Counters live in Redis when REDIS_URL is set (shared by every instance), else in memory.
 */
@Injectable()
export class LoginThrottleService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(LoginThrottleService.name);
  private readonly redis?: Redis;
  private readonly failuresPerAccountAndClient: RateLimiterAbstract;
  private readonly attemptsPerClient: RateLimiterAbstract;

  constructor(@Inject(authConfig.KEY) private readonly config: AuthConfig) {
    const { maxFailures, maxAttemptsPerClient, windowSeconds } = config.login;
    if (config.redisUrl) {
      // While Redis is away, the in-memory insurance limiter answers instead of logins hanging.
      this.redis = createRedisClient(config.redisUrl, this.logger);
    }
    this.failuresPerAccountAndClient = fixedWindowLimiter(this.redis, 'login-failures', maxFailures, windowSeconds);
    this.attemptsPerClient = fixedWindowLimiter(this.redis, 'login-attempts', maxAttemptsPerClient, windowSeconds);
  }

  async onModuleInit(): Promise<void> {
    if (this.redis) {
      await connectRedis(this.redis, this.logger, 'login limits count in memory');
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.redis) {
      await closeRedis(this.redis);
    }
  }

  /**
   * Counts the attempt, and refuses it with 429 while either limit is reached. The
   * attempt counts as a failure until `recordSuccess` forgets it: counted before the
   * password is checked, so parallel attempts cannot all pass the check of the count
   * before any failure is recorded.
   */
  async beginAttempt(email: string, clientIp: string): Promise<void> {
    try {
      await this.attemptsPerClient.consume(clientIp);
    } catch (rejection) {
      throw tooManyAttempts(rejection, 'Too many login attempts from your address');
    }
    try {
      await this.failuresPerAccountAndClient.consume(pairKey(email, clientIp));
    } catch (rejection) {
      throw tooManyAttempts(rejection, 'Too many failed logins for this account from your address');
    }
  }

  async recordSuccess(email: string, clientIp: string): Promise<void> {
    await this.failuresPerAccountAndClient.delete(pairKey(email, clientIp));
  }
}

/** E-mails are hashed so the counter store holds no personal data. */
function pairKey(email: string, clientIp: string): string {
  return createHash('sha256').update(`${email.trim().toLowerCase()}\n${clientIp}`).digest('base64url');
}

function tooManyAttempts(rejection: unknown, reason: string): Error {
  if (!(rejection instanceof RateLimiterRes)) {
    return rejection instanceof Error ? rejection : new Error(String(rejection));
  }
  const seconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
  return new ProblemException(HttpStatus.TOO_MANY_REQUESTS, `${reason}; try again in ${seconds} seconds.`, {
    'Retry-After': String(seconds),
  });
}
