import { ExecutionContext, HttpStatus, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { ProblemException } from '../common/problem';
import { invalidTokenException } from './auth.service';
import type { AuthenticatedUser } from './authenticated-user';
import { IS_PUBLIC } from './decorators';

/**
 * The global guard: every route needs a bearer token unless it is marked @Public().
 * Every failure of the token path ends as a 401 with `WWW-Authenticate`.
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(context: ExecutionContext) {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    return isPublic ? true : super.canActivate(context);
  }

  override handleRequest<User = AuthenticatedUser>(error: Error | null, user: User | false, info: unknown): User {
    if (error) {
      // Our own 401s pass through; anything else (the database is down) is not the token's fault.
      throw error;
    }
    if (user) {
      return user;
    }
    const reason = info instanceof Error ? info : undefined;
    if (!reason || reason.message === 'No auth token') {
      throw new ProblemException(
        HttpStatus.UNAUTHORIZED,
        'This route needs a bearer token: send the header "Authorization: Bearer <access_token>" with the access_token that POST /login returns.',
        { 'WWW-Authenticate': 'Bearer' },
      );
    }
    if (reason.name === 'TokenExpiredError') {
      throw invalidTokenException('The access token has expired; log in again with POST /login for a new one.');
    }
    throw invalidTokenException(
      `The access token is not valid (${reason.message}); log in again with POST /login for a new one.`,
    );
  }
}
