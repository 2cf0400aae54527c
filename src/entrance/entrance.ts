import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from 'pino';
import type { AppConfig } from '../config/configuration';
import { Lifecycle } from '../lifecycle/lifecycle.service';
import { RequestLogController } from '../logging/request-log.controller';
import { ClientRateLimit } from './client-rate-limit';
import { installJsonBodyParser } from './json-body-parser';
import { commonHeaders, type CommonHeaders, installRequestGate } from './request-gate';
import { REQUEST_ID_HEADER, requestIdFor } from './request-id';
import { securityHeaders } from './security-headers';
import { installTokenGate, markRoutesNeedingToken } from './token-gate';
import { clientErrorHandler, frameworkErrorHandler } from './transport-errors';

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

/**
 * The entrance: everything that acts on a request before Nest's router sees it (the
 * request id, the security headers, the HTTP parser's and the router's own refusals,
 * the body parsers and their limits, CORS, the shutdown refusal and the per-client
 * rate limit). Past it, a request meets only Nest: guards, pipes, the controller and the
 * one exception filter, whose problem builder (`toProblem`) words every refusal here too.
 *
 * Why not Nest middleware, guards or interceptors: guards and interceptors never run for
 * an unknown path or a request the router refuses, which the rate limit and the headers
 * must cover; Nest middleware on Fastify runs through @fastify/middie, whose
 * per-request cost was measured at ~150 µs of the ~550 µs of CPU of a GET /posts/{id}
 * (README, "Logs"), against one hook here.
 */
export class Entrance {
  private readonly setCommonHeaders: CommonHeaders;
  private readonly apiSecurityHeaders = securityHeaders('api');

  constructor(
    private readonly config: AppConfig,
    private readonly logger: Logger,
  ) {
    this.setCommonHeaders = commonHeaders({ api: this.apiSecurityHeaders, docs: securityHeaders('docs') });
  }

  /** The Fastify adapter, with the options that shape requests before any hook runs. */
  adapter(): FastifyAdapter {
    const adapter = new FastifyAdapter({
      logController: new RequestLogController(this.logger),
      bodyLimit: BODY_LIMIT_BYTES,
      // Decides `request.ip`, which the rate limits count by.
      trustProxy: this.config.http.trustProxy,
      // `/posts` and `/posts/` are the same route, answered without a redirect.
      routerOptions: { ignoreTrailingSlash: true },
      // A client gets this long to send its whole request (slow-sending clients hold sockets).
      requestTimeout: this.config.http.requestTimeoutMs,
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
      // Errors raised before any hook (the router's, the HTTP parser's), as problem details too.
      frameworkErrors: frameworkErrorHandler(this.setCommonHeaders),
      clientErrorHandler: clientErrorHandler(this.apiSecurityHeaders),
    });
    // Node refuses a header timeout longer than the request timeout.
    const server = adapter.getHttpServer();
    server.headersTimeout = Math.min(server.headersTimeout, this.config.http.requestTimeoutMs);
    return adapter;
  }

  /** Registers the hooks and parsers on the app built with `adapter()`. */
  install(app: NestFastifyApplication): void {
    installRequestGate(app.getHttpAdapter().getInstance(), {
      setCommonHeaders: this.setCommonHeaders,
      lifecycle: app.get(Lifecycle),
      rateLimit: app.get(ClientRateLimit),
    });
    // Runs after every onRequest hook (the gate's rate limit, CORS): see installTokenGate.
    markRoutesNeedingToken(app);
    installTokenGate(app.getHttpAdapter().getInstance());
    installJsonBodyParser(app, BODY_LIMIT_BYTES);
    // Only JSON (and forms, on the routes that accept them) are read: text/plain gets 415 like any other type.
    app.getHttpAdapter().getInstance().removeContentTypeParser('text/plain');
    const { corsOrigins } = this.config.http;
    if (corsOrigins.length > 0) {
      app.enableCors({
        origin: corsOrigins.includes('*') ? '*' : corsOrigins,
        methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
        allowedHeaders: ['Authorization', 'Content-Type', REQUEST_ID_HEADER],
        exposedHeaders: EXPOSED_HEADERS,
        maxAge: 600,
      });
    }
  }
}
