import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { RateLimiterAbstract } from 'rate-limiter-flexible';
import { AUTH_CONFIG, type AuthConfig } from '../config/configuration';
import { consumeOrRefuse, Counters } from '../rate-limit/counters';

/**
 * The brute-force limits of POST /login: failures per (e-mail, client address), and
 * attempts per client address, in a fixed window. rate-limiter-flexible rather than
 * @nestjs/throttler: the throttler counts every request and cannot count failures
 * only or forget a key after a success, which the contract asks for.
 * The counters live where `Counters` keeps them (Redis when REDIS_URL is set).
 */
@Injectable()
export class LoginThrottleService {
  private readonly failuresPerAccountAndClient: RateLimiterAbstract;
  private readonly attemptsPerClient: RateLimiterAbstract;

  constructor(counters: Counters, @Inject(AUTH_CONFIG) { login }: AuthConfig) {
    this.failuresPerAccountAndClient = counters.fixedWindow('login-failures', login.maxFailures, login.windowSeconds);
    this.attemptsPerClient = counters.fixedWindow('login-attempts', login.maxAttemptsPerClient, login.windowSeconds);
  }

  /**
   * Counts the attempt, and refuses it with 429 while either limit is reached. The
   * attempt counts as a failure until `recordSuccess` forgets it: counted before the
   * password is checked, so parallel attempts cannot all pass the check of the count
   * before any failure is recorded.
   */
  async beginAttempt(account: string, clientIp: string): Promise<void> {
    await consumeOrRefuse(this.attemptsPerClient, clientIp, 'Too many login attempts from your address');
    await consumeOrRefuse(
      this.failuresPerAccountAndClient,
      pairKey(account, clientIp),
      'Too many failed logins for this account from your address',
    );
  }

  async recordSuccess(account: string, clientIp: string): Promise<void> {
    await this.failuresPerAccountAndClient.delete(pairKey(account, clientIp));
  }
}

/** Account keys are hashed so the counter store holds no personal data. */
function pairKey(account: string, clientIp: string): string {
  return createHash('sha256').update(`${account}\n${clientIp}`).digest('base64url');
}
