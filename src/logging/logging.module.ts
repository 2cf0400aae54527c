import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { DynamicModule, Module } from '@nestjs/common';
import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import { LoggerModule } from 'nestjs-pino';
import { type DestinationStream, type Level, type LevelWithSilent, type Logger, pino, stdTimeFunctions } from 'pino';
import type { EnvironmentVariables, LogLevelName } from '../config/environment';
import { loggableUrl, REDACTED, redactDeep, redactSecrets } from './redact';

export const REQUEST_ID_HEADER = 'X-Request-Id';

/** An incoming X-Request-Id is kept when it is this tame; otherwise the request gets a new one. */
const ACCEPTABLE_REQUEST_ID = /^[\w.:@/+=-]{1,128}$/;

const PINO_LEVELS: Record<LogLevelName, LevelWithSilent> = {
  fatal: 'fatal',
  error: 'error',
  warn: 'warn',
  info: 'info',
  debug: 'debug',
  verbose: 'trace',
};

/** Fastify's `genReqId`: the client's X-Request-Id when it is acceptable, else a new UUID. */
export function requestIdFor(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && ACCEPTABLE_REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * The one pino logger of the process: for the request lines (`RequestLogController`)
 * and, through nestjs-pino, Nest's. Every string of every line goes through `redactSecrets` (a
 * second line of defence: headers and bodies are never logged in the first place).
 */
export function createRootLogger(
  env: Pick<EnvironmentVariables, 'LOG_LEVEL' | 'LOG_FORMAT' | 'NODE_ENV'>,
  destination?: DestinationStream,
): Logger {
  const pretty = !destination && (env.LOG_FORMAT ?? (env.NODE_ENV === 'development' ? 'pretty' : 'json')) === 'pretty';
  return pino(
    {
      level: PINO_LEVELS[env.LOG_LEVEL],
      timestamp: stdTimeFunctions.isoTime,
      serializers: {
        err: (error: { name?: string; message?: string; stack?: string; code?: unknown }) => ({
          type: error.name,
          message: redactSecrets(String(error.message ?? '')),
          stack: redactSecrets(String(error.stack ?? '')),
          code: error.code,
        }),
      },
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.access_token', '*.refresh_token'],
        censor: REDACTED,
      },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((argument: unknown) => redactDeep(argument)) as Parameters<typeof method>);
        },
      },
      ...(pretty && {
        transport: {
          target: 'pino-pretty',
          options: { singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' },
        },
      }),
    },
    destination,
  );
}

function levelFor(status: number, route: string | undefined): Level {
  if (status >= 500) {
    return 'error';
  }
  // Load balancers poll the health checks every few seconds.
  return route?.startsWith('/health') && status < 400 ? 'debug' : 'info';
}

/**
 * Fastify's request logging, one line per request when it ends: its id (also in the
 * X-Request-Id response header), method, URL (secret-looking query values masked),
 * route, client, status and latency. Nothing is built when the level is off, and
 * Fastify's own per-request child loggers are not used (its logger stays off).
 */
export class RequestLogController extends LogController {
  constructor(private readonly logger: Logger) {
    super();
  }

  override incomingRequest(): void {
    // One line per request, when it is done.
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const route = request.routeOptions.url;
    const status = reply.statusCode;
    const level = error ? 'error' : levelFor(status, route);
    if (!this.logger.isLevelEnabled(level)) {
      return;
    }
    const responseTime = Math.round(reply.elapsedTime * 10) / 10;
    const url = loggableUrl(request.url);
    this.logger[level](
      {
        reqId: request.id,
        method: request.method,
        url,
        route: route ?? null,
        status,
        responseTime,
        client: request.ip,
        userAgent: request.headers['user-agent'],
        ...(error && { err: error }),
      },
      `${request.method} ${route ?? url} ${status} ${responseTime}ms`,
    );
  }
}

/**
 * Nest's own log lines (start-up, errors) through the same logger, with nestjs-pino.
 * Its per-request middleware is not used (`forRoutes: []`): Fastify logs the requests
 * (`RequestLogController`), without an AsyncLocalStorage context per request, which costs every
 * promise of the process.
 */
@Module({})
export class LoggingModule {
  static forRoot(logger: Logger): DynamicModule {
    return {
      module: LoggingModule,
      imports: [LoggerModule.forRoot({ pinoHttp: { logger }, forRoutes: [] })],
    };
  }
}
