import { LogLevel } from '@nestjs/common';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppModule, AppModuleOptions } from './app.module';
import { ProblemDetailsFilter } from './common/problem-details.filter';
import { AppValidationPipe } from './common/validation.pipe';
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

function setUpDocs(app: NestFastifyApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Posts API')
    .setDescription(
      [
        'Register with `POST /users`, then log in with `POST /login` (e-mail as `username`, and `password`).',
        'Send the returned `access_token` as `Authorization: Bearer <access_token>` on every other route.',
        'In this page, "Authorize" does that for you: enter your e-mail and password; the login survives a reload.',
        'Every error is `application/problem+json` (RFC 9457) with a `detail` that says what to do next.',
      ].join('\n\n'),
    )
    .setVersion('1.0')
    .addOAuth2(
      {
        type: 'oauth2',
        description: 'Log in with your e-mail (as username) and password.',
        flows: { password: { tokenUrl: '/login', scopes: {} } },
      },
      'oauth2',
    )
    .build();
  const document = SwaggerModule.createDocument(app, config, {
    operationIdFactory: (_controller, method) => method,
  });
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'openapi.json',
    yamlDocumentUrl: 'openapi.yaml',
    customSiteTitle: 'Posts API docs',
    swaggerOptions: { persistAuthorization: true },
  });
}
