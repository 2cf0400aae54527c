import { ExecutionContext, HttpStatus, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { invalidTokenException, ProblemException } from '../common/problem';
import { type AuthenticatedUser, VERIFY_EMAIL_FIRST } from '../common/identity/authenticated-user';
import { hasBearerToken, MISSING_TOKEN } from '../common/identity/bearer-token';
import { isPublicRoute, NEEDS_VERIFIED_EMAIL } from '../common/identity/decorators';
import { AUTH_CONFIG, type AuthConfig } from '../config/configuration';

/**
 * The global guard: every route needs a bearer token unless it is marked @Public().
 * Every failure of the token path ends as a 401 with `WWW-Authenticate`.
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(
    private readonly reflector: Reflector,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
  ) {
    super();
  }

  override canActivate(context: ExecutionContext) {
    if (isPublicRoute(this.reflector, context.getHandler(), context.getClass())) {
      return true;
    }
    // Without a bearer token there is nothing for Passport to check: answer at once. (The
    // entrance's token gate answers these before Nest for the routes it marked; this covers
    // any other route.)
    if (!hasBearerToken(context.switchToHttp().getRequest<FastifyRequest>().headers.authorization)) {
      throw MISSING_TOKEN;
    }
    return super.canActivate(context);
  }

  override handleRequest<User = AuthenticatedUser>(
    error: Error | null,
    user: User | false,
    info: unknown,
    context: ExecutionContext,
  ): User {
    if (error) {
      // Our own 401s pass through; anything else (the database is down) is not the token's fault.
      throw error;
    }
    if (user) {
      if (
        this.config.requireVerifiedEmail &&
        !(user as unknown as AuthenticatedUser).emailVerified &&
        this.reflector.get<boolean>(NEEDS_VERIFIED_EMAIL, context.getHandler())
      ) {
        throw new ProblemException(HttpStatus.FORBIDDEN, VERIFY_EMAIL_FIRST);
      }
      return user;
    }
    const reason = info instanceof Error ? info : undefined;
    if (!reason || reason.message === 'No auth token') {
      throw MISSING_TOKEN;
    }
    if (reason.name === 'TokenExpiredError') {
      throw invalidTokenException('The access token has expired; log in again with POST /login for a new one.');
    }
    throw invalidTokenException(
      `The access token is not valid (${reason.message}); log in again with POST /login for a new one.`,
    );
  }
}
