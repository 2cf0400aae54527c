import {
  type CallHandler,
  type ExecutionContext,
  HttpException,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import { catchError, concatMap, from, type Observable } from 'rxjs';
import type { AuthenticatedUser } from '../common/identity/authenticated-user';
import { Sql } from './sql';

/** Methods that write nothing. */
const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Read-your-writes with read replicas: once a caller's POST, PUT, PATCH or DELETE has
 * answered, the primary's WAL position is recorded for the caller (`Sql.recordWrite`)
 * before the answer leaves, so every later read of theirs, on any instance, waits for a
 * replica that has replayed it or goes to the primary. Every route that changes anything
 * is such a method with a token (a post, vote or comment; an account change; a logout);
 * a registration, which has no token yet, records itself. A refusal (4xx) wrote nothing;
 * after any other failure the write may have happened, so the position is recorded too.
 * Installed only with replicas (AppModule): without them there is no position to record.
 */
@Injectable()
export class ReadYourWritesInterceptor implements NestInterceptor {
  constructor(private readonly sql: Sql) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<{ method: string; user?: AuthenticatedUser }>();
    if (!this.sql.hasReplicas || READS.has(request.method)) {
      return next.handle();
    }
    const record = () => (request.user ? this.sql.recordWrite(request.user.id) : Promise.resolve());
    return next.handle().pipe(
      concatMap((answer: unknown) => from(record().then(() => answer))),
      catchError((error: unknown) => {
        const refused = error instanceof HttpException && error.getStatus() < 500;
        return from(
          (refused ? Promise.resolve() : record().catch(() => undefined)).then(() => {
            throw error;
          }),
        );
      }),
    );
  }
}
