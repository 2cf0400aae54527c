import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { type DestinationStream, type LevelWithSilent, stdTimeFunctions } from 'pino';
import type { Options } from 'pino-http';
import { appConfig, type AppConfig } from '../config/configuration';
import type { LogLevelName } from '../config/environment';
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

/** What the Fastify adapter adds to the raw request for the log line (see `app.setup.ts`). */
export interface LoggedRequest extends IncomingMessage {
  /** The route's pattern, such as `/posts/:id`, once Fastify has matched it. */
  routePattern?: string;
  /** The client's address as `TRUST_PROXY` decides it. */
  clientIp?: string;
}

/** Fastify's `genReqId`: the client's X-Request-Id when it is acceptable, else a new UUID. */
export function requestIdFor(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && ACCEPTABLE_REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * nestjs-pino's default route pattern, `{/*splat}`, does not reach @fastify/middie
 * 9.3 intact (it prefixes a slash, and the pattern then matches nothing): this one
 * matches every path in both.
 */
const EVERY_PATH = '/{*path}';

/**
 * One JSON line per request (request id, method, route, status, latency) and every
 * Nest log line as JSON with the request id of the request it belongs to. Headers and
 * bodies are never logged: the request is reduced to an allow-list of fields, and every
 * string goes through `redactSecrets` as a second line of defence.
 */
export function pinoHttpOptions(config: AppConfig): Options<LoggedRequest, ServerResponse> {
  return {
    level: PINO_LEVELS[config.logLevel],
    timestamp: stdTimeFunctions.isoTime,
    // Fastify has set `id` on the raw request already (see `requestIdFor`).
    genReqId: (request) => (typeof request.id === 'string' ? request.id : requestIdFor(request)),
    serializers: {
      req: (request: { id?: string; method?: string; url?: string; raw?: LoggedRequest }) => ({
        id: request.id,
        method: request.method,
        url: loggableUrl(request.url ?? ''),
        client: request.raw?.clientIp ?? request.raw?.socket?.remoteAddress,
        userAgent: redactSecrets(String(request.raw?.headers['user-agent'] ?? '')),
      }),
      res: (response: { raw?: ServerResponse }) => ({ statusCode: response.raw?.statusCode }),
      err: (error: { type?: string; message?: string; stack?: string; code?: unknown }) => ({
        type: error.type,
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
      // Nest's log calls arrive as (object?, message, ...): hide secrets in the messages too.
      logMethod(args, method) {
        method.apply(this, args.map((argument: unknown) => redactDeep(argument)) as Parameters<typeof method>);
      },
    },
    customLogLevel: (request, response, error) => {
      if (error || response.statusCode >= 500) {
        return 'error';
      }
      // Load balancers poll the health checks every few seconds.
      return request.routePattern?.startsWith('/health') && response.statusCode < 400 ? 'debug' : 'info';
    },
    customSuccessObject: (request, _response, fields: Record<string, unknown>) => ({
      ...fields,
      route: request.routePattern ?? null,
    }),
    customErrorObject: (request, _response, _error, fields: Record<string, unknown>) => ({
      ...fields,
      route: request.routePattern ?? null,
    }),
    customSuccessMessage: (request, response, responseTime) =>
      `${request.method} ${request.routePattern ?? loggableUrl(request.url ?? '')} ${response.statusCode} ${responseTime}ms`,
    customErrorMessage: (request, response) =>
      `${request.method} ${request.routePattern ?? loggableUrl(request.url ?? '')} ${response.statusCode}`,
    ...(config.logFormat === 'pretty' && {
      transport: {
        target: 'pino-pretty',
        options: { singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' },
      },
    }),
  };
}

@Module({})
export class LoggingModule {
  /** `destination` replaces stdout (the tests read the lines from it). */
  static forRoot(destination?: DestinationStream): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRootAsync({
          inject: [appConfig.KEY],
          useFactory: (config: AppConfig) => {
            const options = pinoHttpOptions(config);
            if (destination) {
              delete options.transport;
              return { pinoHttp: [options, destination], forRoutes: [EVERY_PATH] };
            }
            return { pinoHttp: options, forRoutes: [EVERY_PATH] };
          },
        }),
      ],
    };
  }
}
