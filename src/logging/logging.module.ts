import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { Logger } from 'pino';

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
