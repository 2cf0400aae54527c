import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { catchError, from, mergeMap, type Observable, of, throwError } from 'rxjs';
import type { AuthenticatedUser } from '../common/identity/authenticated-user';
import { ValidationProblemException } from '../common/problem';
import { IdempotencyService } from './idempotency.service';

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
export const IDEMPOTENT_REPLAYED_HEADER = 'Idempotent-Replayed';
/** 1 to 255 printable ASCII characters (space to tilde). */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x20-\x7e]{1,255}$/;

/** JSON with the keys of every object sorted: equal bodies hash alike whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .filter((name) => (value as Record<string, unknown>)[name] !== undefined)
      .map((name) => `${JSON.stringify(name)}:${canonicalJson((value as Record<string, unknown>)[name])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function requestHash(method: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method} ${path}\n${canonicalJson(body)}`)
    .digest('hex');
}

/**
 * Carries a request with an `Idempotency-Key` out at most once per user and key (see
 * `@Idempotent()`): the first claims the key and records its answer, a retry gets that
 * answer again. Without the header it does nothing. Runs after the token check (the
 * caller is known) and before the pipes, whose refusals release the claim as any error does.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(private readonly idempotency: IdempotencyService) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest & { user: AuthenticatedUser }>();
    const reply = http.getResponse<FastifyReply>();
    const header = request.headers[IDEMPOTENCY_KEY_HEADER.toLowerCase()];
    if (header === undefined) {
      return next.handle();
    }
    const key = Array.isArray(header) ? header.join(', ') : header;
    if (!IDEMPOTENCY_KEY_PATTERN.test(key)) {
      throw new ValidationProblemException([
        {
          field: IDEMPOTENCY_KEY_HEADER,
          message: `${IDEMPOTENCY_KEY_HEADER} must be 1 to 255 printable ASCII characters`,
        },
      ]);
    }
    const path = request.url.split('?')[0];
    const outcome = await this.idempotency.claim(request.user.id, key, requestHash(request.method, path, request.body));
    if (outcome.kind === 'replay') {
      reply.status(outcome.statusCode);
      if (outcome.location !== null) {
        reply.header('Location', outcome.location);
      }
      reply.header(IDEMPOTENT_REPLAYED_HEADER, 'true');
      return of(outcome.body);
    }
    return next.handle().pipe(
      // A failed request changed nothing: give the key back, so that a corrected retry runs.
      catchError((error: unknown) =>
        from(this.idempotency.release(outcome).catch(() => undefined)).pipe(mergeMap(() => throwError(() => error))),
      ),
      mergeMap(async (body: unknown) => {
        const location = reply.getHeader('location');
        await this.idempotency.complete(outcome, {
          statusCode: reply.statusCode,
          body,
          location: typeof location === 'string' ? location : null,
        });
        return body;
      }),
    );
  }
}
