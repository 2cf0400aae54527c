import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import type { AuthenticatedUser, ClientInfo } from './authenticated-user';

export const IS_PUBLIC = 'isPublic';

/** Opens a route to callers without a token; every other route needs one. */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** A handler or a controller class, as Nest's Reflector reads metadata from them. */
type MetadataTarget = Parameters<Reflector['getAllAndOverride']>[1][number];

/**
 * Whether a route is open to callers without a token: `@Public()` on the handler, else on
 * its controller. The one reading of it, for `JwtAuthGuard` and the entrance's token gate.
 */
export function isPublicRoute(reflector: Reflector, handler: MetadataTarget, controller: MetadataTarget): boolean {
  return reflector.getAllAndOverride<boolean>(IS_PUBLIC, [handler, controller]) === true;
}

export const NEEDS_VERIFIED_EMAIL = 'needsVerifiedEmail';

/**
 * A route that writes posts, votes or comments: with REQUIRE_VERIFIED_EMAIL=true, a
 * caller whose e-mail address is not verified gets 403.
 */
export const VerifiedEmailRequired = () => SetMetadata(NEEDS_VERIFIED_EMAIL, true);

/** The user Passport put on the request (from the token, or from the login form). */
export const CurrentUser = createParamDecorator(
  (_data: unknown, context: ExecutionContext): AuthenticatedUser =>
    context.switchToHttp().getRequest<{ user: AuthenticatedUser }>().user,
);

/** The caller's address (as TRUST_PROXY decides) and user agent, recorded with a session. */
export const Client = createParamDecorator((_data: unknown, context: ExecutionContext): ClientInfo => {
  const request = context.switchToHttp().getRequest<FastifyRequest>();
  return { ip: request.ip ?? null, userAgent: request.headers['user-agent'] ?? null };
});
