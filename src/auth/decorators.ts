import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { AuthenticatedUser } from './authenticated-user';

export const IS_PUBLIC = 'isPublic';

/** Opens a route to callers without a token; every other route needs one. */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** The user Passport put on the request (from the token, or from the login form). */
export const CurrentUser = createParamDecorator(
  (_data: unknown, context: ExecutionContext): AuthenticatedUser =>
    context.switchToHttp().getRequest<{ user: AuthenticatedUser }>().user,
);
