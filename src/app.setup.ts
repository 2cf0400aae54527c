import helmet from '@fastify/helmet';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { AppModule, AppModuleOptions } from './app.module';
import { PROBLEM_CONTENT_TYPE, problem } from './common/problem';
import { ProblemDetailsFilter } from './common/problem-details.filter';
import { AppValidationPipe } from './common/validation.pipe';
import { appConfig, type AppConfig } from './config/configuration';
import { setUpDocs } from './docs/docs.setup';
import { trustProxySetting, validateEnvironment } from './config/environment';
import { Lifecycle } from './lifecycle/lifecycle.service';
import { LoggedRequest, REQUEST_ID_HEADER, requestIdFor } from './logging/logging.module';

/** Big enough for 20,000 characters of content however they are escaped in JSON. */
export const BODY_LIMIT_BYTES = 256 * 1024;

/**
 * Security headers for every answer. The policy lets the docs pages (/docs, /redoc)
 * run from this origin alone; JSON answers are not rendered by browsers anyway.
 */
const CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  workerSrc: ["'self'", 'blob:'],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  // Served over plain HTTP behind a proxy that ends TLS, this would break the docs.
  upgradeInsecureRequests: null,
};

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
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    // Decides `request.ip`, which the rate limits count by.
    trustProxy: trustProxySetting(env.TRUST_PROXY),
    // `/posts` and `/posts/` are the same route, answered without a redirect.
    routerOptions: { ignoreTrailingSlash: true },
    // A client gets this long to send its whole request (slow-sending clients hold sockets).
    requestTimeout: requestTimeoutMs,
    // Refusals during shutdown are answered below, as problem details.
    return503OnClosing: false,
    // Every request's id, in its log lines and its X-Request-Id response header.
    genReqId: requestIdFor,
  });
  // Node refuses a header timeout longer than the request timeout.
  adapter.getHttpServer().headersTimeout = Math.min(adapter.getHttpServer().headersTimeout, requestTimeoutMs);

  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(options), adapter, {
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  const config = app.get<AppConfig>(appConfig.KEY);
  const fastify = app.getHttpAdapter().getInstance();

  const lifecycle = app.get(Lifecycle);
  fastify.addHook('onRequest', (request, reply, done) => {
    const raw = request.raw as LoggedRequest;
    raw.routePattern = request.routeOptions.url;
    raw.clientIp = request.ip;
    void reply.header(REQUEST_ID_HEADER, request.id);
    if (lifecycle.refusingRequests && !raw.routePattern?.startsWith('/health')) {
      // Shutting down: a request on a connection that is still open is refused, and the
      // connection closed. The health checks still answer (readiness with 503 and its reason).
      void reply
        .code(503)
        .header('Connection', 'close')
        .header('Retry-After', '1')
        .type(PROBLEM_CONTENT_TYPE)
        .send(problem(503, 'This instance is shutting down; send the request again (another instance will answer).'));
      return;
    }
    done();
  });
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    if (lifecycle.refusingRequests) {
      reply.header('Connection', 'close');
    }
    done(null, payload);
  });

  await app.register(helmet, { contentSecurityPolicy: { directives: CONTENT_SECURITY_POLICY } });
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
