import { LogLevel } from '@nestjs/common';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule, AppModuleOptions } from './app.module';
import { ProblemDetailsFilter } from './common/problem-details.filter';
import { AppValidationPipe } from './common/validation.pipe';
import { setUpDocs } from './docs/docs.setup';
import { LOG_LEVELS, type LogLevelName, trustProxySetting, validateEnvironment } from './config/environment';

/** Big enough for 20,000 characters of content however they are escaped in JSON. */
export const BODY_LIMIT_BYTES = 256 * 1024;

const NEST_LOG_LEVELS: Record<LogLevelName, LogLevel> = {
  fatal: 'fatal',
  error: 'error',
  warn: 'warn',
  info: 'log',
  debug: 'debug',
  verbose: 'verbose',
};

/** The Nest levels to print for a LOG_LEVEL: that level and every more severe one. */
export function logLevelsFor(level: LogLevelName): LogLevel[] {
  return LOG_LEVELS.slice(0, LOG_LEVELS.indexOf(level) + 1).map((name) => NEST_LOG_LEVELS[name]);
}

/** Builds the whole app as `main.ts` serves it; end-to-end tests use the same function. */
export async function createApp(options: AppModuleOptions = {}): Promise<NestFastifyApplication> {
  const env = validateEnvironment(process.env);
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    // Decides `request.ip`, which the login limits count by.
    trustProxy: trustProxySetting(env.TRUST_PROXY),
    // `/posts` and `/posts/` are the same route, answered without a redirect.
    routerOptions: { ignoreTrailingSlash: true },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(options), adapter, {
    logger: logLevelsFor(env.LOG_LEVEL),
    abortOnError: false,
  });

  app.useGlobalPipes(new AppValidationPipe());
  app.useGlobalFilters(new ProblemDetailsFilter(app.get(HttpAdapterHost)));
  // Only JSON (and the login form) are read; text/plain is refused with 415 like any other type.
  app.getHttpAdapter().getInstance().removeContentTypeParser('text/plain');
  app.enableShutdownHooks();
  setUpDocs(app);
  return app;
}
