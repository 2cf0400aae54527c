import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { AppModule, AppModuleOptions } from './app.module';
import { ProblemDetailsFilter } from './common/problem-details.filter';
import { AppValidationPipe } from './common/validation.pipe';
import { appConfig, type AppConfig } from './config/configuration';
import { setUpDocs } from './docs/docs.setup';
import { trustProxySetting, validateEnvironment } from './config/environment';
import { Lifecycle } from './lifecycle/lifecycle.service';
import { ClientRateLimit } from './rate-limit/client-rate-limit';
import { answerDecorator, installRequestGate } from './http/request-gate';
import { securityHeaders } from './http/security-headers';
import { clientErrorHandler, frameworkErrorHandler, refuseDeepJson } from './http/transport-errors';
import { createRootLogger, REQUEST_ID_HEADER, RequestLogController, requestIdFor } from './logging/logging.module';

/** Big enough for 20,000 characters of content however they are escaped in JSON. */
export const BODY_LIMIT_BYTES = 256 * 1024;

/** Response headers a browser page on an allowed origin may read. */
const EXPOSED_HEADERS = [
  'Link',
  'Location',
  'Retry-After',
  REQUEST_ID_HEADER,
  'X-RateLimit-Limit',
  'X-RateLimit-Remaining',
  'X-RateLimit-Reset',
];

/** Builds the whole app as `main.ts` serves it; end-to-end tests use the same function. */
export async function createApp(options: AppModuleOptions = {}): Promise<NestFastifyApplication> {
  const env = validateEnvironment(process.env);
  const requestTimeoutMs = env.REQUEST_TIMEOUT_SECONDS * 1000;
  const logger = createRootLogger(env, options.logDestination);
  const apiSecurityHeaders = securityHeaders('api');
  const decorate = answerDecorator({ api: apiSecurityHeaders, docs: securityHeaders('docs') });
  const adapter = new FastifyAdapter({
    logController: new RequestLogController(logger),
    bodyLimit: BODY_LIMIT_BYTES,
    // Decides `request.ip`, which the rate limits count by.
    trustProxy: trustProxySetting(env.TRUST_PROXY),
    // `/posts` and `/posts/` are the same route, answered without a redirect.
    routerOptions: { ignoreTrailingSlash: true },
    // A client gets this long to send its whole request (slow-sending clients hold sockets).
    requestTimeout: requestTimeoutMs,
    http: {
      // How often Node looks for requests past that time (30 s by default).
      connectionsCheckingInterval: 5_000,
      // An HTTP/1.1 request without Host is refused by the request gate, as problem details.
      requireHostHeader: false,
    },
    // Refusals during shutdown are answered by the request gate, as problem details.
    return503OnClosing: false,
    // Every request's id, in its log lines and its X-Request-Id response header.
    genReqId: requestIdFor,
    // Errors raised before Nest sees the request, answered as problem details too.
    frameworkErrors: frameworkErrorHandler(decorate),
    clientErrorHandler: clientErrorHandler(apiSecurityHeaders),
  });
  // Node refuses a header timeout longer than the request timeout.
  adapter.getHttpServer().headersTimeout = Math.min(adapter.getHttpServer().headersTimeout, requestTimeoutMs);

  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot({ ...options, logger }), adapter, {
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  const config = app.get<AppConfig>(appConfig.KEY);
  const fastify = app.getHttpAdapter().getInstance();

  installRequestGate(fastify, {
    decorate,
    lifecycle: app.get(Lifecycle),
    rateLimit: app.get(ClientRateLimit),
  });
  refuseDeepJson(app, BODY_LIMIT_BYTES);

  if (config.corsOrigins.length > 0) {
    app.enableCors({
      origin: config.corsOrigins.includes('*') ? '*' : config.corsOrigins,
      methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type', REQUEST_ID_HEADER],
      exposedHeaders: EXPOSED_HEADERS,
      maxAge: 600,
    });
  }
  app.useGlobalPipes(new AppValidationPipe());
  app.useGlobalFilters(new ProblemDetailsFilter(app.get(HttpAdapterHost)));
  // Only JSON (and the login form) are read; text/plain is refused with 415 like any other type.
  fastify.removeContentTypeParser('text/plain');
  setUpDocs(app);
  return app;
}
