import { HttpStatus, Inject, Injectable, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import { ProblemException } from '../common/problem';
import { APP_CONFIG, type AppConfig } from '../config/configuration';
import { Counters } from '../rate-limit/counters';
import { sendProblem } from './problem-reply';

/**
 * The global per-client limit: RATE_LIMIT_MAX requests per client address per
 * RATE_LIMIT_WINDOW_SECONDS, all paths together (unknown ones and the docs too) but
 * the health checks. The request gate calls it before Nest sees the request, so a
 * refused request costs one counter increment. The counters (fixed windows) live where
 * `Counters` keeps them. The address is `request.ip`: X-Forwarded-For counts only from
 * the proxies TRUST_PROXY names.
 */
@Injectable()
export class ClientRateLimit {
  private readonly logger = new Logger('RateLimit');
  private readonly limiter: RateLimiterAbstract;
  private readonly limit: string;

  constructor(counters: Counters, @Inject(APP_CONFIG) { rateLimit }: AppConfig) {
    this.limiter = counters.fixedWindow('requests', rateLimit.max, rateLimit.windowSeconds);
    this.limit = String(rateLimit.max);
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
        sendProblem(
          reply,
          new ProblemException(
            HttpStatus.TOO_MANY_REQUESTS,
            `Too many requests from your address; try again in ${seconds} seconds.`,
            { 'Retry-After': String(seconds) },
          ),
        );
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
