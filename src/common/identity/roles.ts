import { CanActivate, ExecutionContext, ForbiddenException, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { AuthenticatedUser } from './authenticated-user';

export type Role = AuthenticatedUser['role'];

export const ROLES_KEY = 'roles';

/** The roles that may use a route (or every route of a controller), as Nest's authorization chapter does it. */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);

export const ADMINS_ONLY = 'This route is for admins only; your account is not an admin.';

/**
 * Lets a request through when the route names no roles, or when the caller (put on the
 * request by the token guard, which runs first) has one of them; 403 otherwise.
 */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!roles || roles.length === 0) {
      return true;
    }
    const user = context.switchToHttp().getRequest<{ user?: AuthenticatedUser }>().user;
    if (!user || !roles.includes(user.role)) {
      throw new ForbiddenException(ADMINS_ONLY);
    }
    return true;
  }
}
