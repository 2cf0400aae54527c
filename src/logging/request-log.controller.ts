import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import type { Logger } from 'pino';
import { isHealthCheckRoute } from '../common/health-check-route';
import { ALREADY_REDACTED, loggableUrl, redactSecrets } from './redact';
import {
  createRequestLineWriter,
  requestLineMessage,
  type RequestLineLevel,
  type RequestLineWriter,
} from './root-logger';

function levelFor(status: number, request: FastifyRequest): RequestLineLevel | 'error' {
  if (status >= 500) {
    return 'error';
  }
  // Load balancers poll the health checks every few seconds.
  return status < 400 && isHealthCheckRoute(request) ? 'debug' : 'info';
}

/**
 * Fastify's request logging, one line per request when it ends: its id (also in the
 * X-Request-Id response header), method, URL (secret-looking query values masked),
 * route, client, status and latency. Nothing is built when the level is off, and
 * Fastify's own per-request child loggers are not used (its logger stays off).
 */
export class RequestLogController extends LogController {
  /** The lines of requests that ended without an error; those with one go through the root logger and its error serializer. */
  private readonly lines: RequestLineWriter;

  constructor(private readonly logger: Logger) {
    super();
    this.lines = createRequestLineWriter(logger);
  }

  override incomingRequest(): void {
    // One line per request, when it is done.
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const route = request.routeOptions.url;
    const status = reply.statusCode;
    const level = error ? 'error' : levelFor(status, request);
    if (!this.logger.isLevelEnabled(level)) {
      return;
    }
    const responseTime = Math.round(reply.elapsedTime * 10) / 10;
    const url = loggableUrl(request.url);
    const userAgent = request.headers['user-agent'];
    // Every string below is masked here (or is the route, a method, an id or an address).
    const fields = {
      reqId: request.id,
      method: request.method,
      url,
      route: route ?? null,
      status,
      responseTime,
      client: request.ip,
      userAgent: userAgent === undefined ? undefined : redactSecrets(userAgent),
    };
    if (error || level === 'error') {
      this.logger[level](
        { [ALREADY_REDACTED]: true, ...fields, ...(error && { err: error }) },
        requestLineMessage(fields),
      );
      return;
    }
    this.lines(level, fields);
  }
}
