import { CanActivate, ExecutionContext, Injectable, SetMetadata, UnsupportedMediaTypeException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';

const ACCEPTS_FORM_BODY = 'acceptsFormBody';

/**
 * Lets a route read an `application/x-www-form-urlencoded` body (the OAuth2 token
 * routes, and pages that post forms). Every other route answers a form with 415.
 */
export const AcceptsFormBody = () => SetMetadata(ACCEPTS_FORM_BODY, true);

const FORM_CONTENT_TYPE = /^\s*application\/x-www-form-urlencoded\s*(;|$)/i;

/**
 * A global guard: a plain HTML form on another site can post urlencoded bodies with
 * no CORS preflight, so a JSON route that read them could be made to register accounts
 * or write posts from a victim's browser. Fastify parses such bodies for every route;
 * this refuses them on the routes not marked `@AcceptsFormBody()`.
 */
@Injectable()
export class FormBodyGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const contentType = context.switchToHttp().getRequest<FastifyRequest>().headers['content-type'];
    if (contentType === undefined || !FORM_CONTENT_TYPE.test(contentType)) {
      return true;
    }
    if (this.reflector.getAllAndOverride<boolean>(ACCEPTS_FORM_BODY, [context.getHandler(), context.getClass()])) {
      return true;
    }
    throw new UnsupportedMediaTypeException();
  }
}
