import { ExecutionContext, HttpStatus, Injectable } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerLimitDetail } from '@nestjs/throttler';
import type { FastifyRequest } from 'fastify';
import { ProblemException } from '../common/problem';

/**
 * The global per-client limit: one counter per client address for all routes together
 * (the throttler's default keeps one per route). The address is `request.ip`, which
 * honours X-Forwarded-For only from the proxies TRUST_PROXY names.
 */
@Injectable()
export class ClientThrottlerGuard extends ThrottlerGuard {
  protected override getTracker(request: Record<string, unknown>): Promise<string> {
    return Promise.resolve((request as unknown as FastifyRequest).ip);
  }

  protected override generateKey(_context: ExecutionContext, tracker: string): string {
    return tracker;
  }

  protected override throwThrottlingException(
    _context: ExecutionContext,
    { timeToBlockExpire }: ThrottlerLimitDetail,
  ): Promise<void> {
    const seconds = Math.max(1, timeToBlockExpire);
    throw new ProblemException(
      HttpStatus.TOO_MANY_REQUESTS,
      `Too many requests from your address; try again in ${seconds} seconds.`,
      { 'Retry-After': String(seconds) },
    );
  }
}
