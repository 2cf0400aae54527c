import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_CONTENT_TYPE, problem } from '../common/problem';
import type { Lifecycle } from '../lifecycle/lifecycle.service';
import { REQUEST_ID_HEADER } from '../logging/logging.module';
import type { ClientRateLimit } from '../rate-limit/client-rate-limit';

export type AnswerDecorator = (request: FastifyRequest, reply: FastifyReply) => void;

/**
 * What every answer carries: its request's X-Request-Id and the security headers (those
 * of the docs pages under /docs, whose policy lets their scripts run). The request gate
 * applies it, and so does the handler of the errors the router raises before any hook.
 */
export function answerDecorator(securityHeaders: {
  api: Record<string, string>;
  docs: Record<string, string>;
}): AnswerDecorator {
  return (request, reply) => {
    const page = request.url.startsWith('/docs') ? securityHeaders.docs : securityHeaders.api;
    void reply.header(REQUEST_ID_HEADER, request.id).headers(page);
  };
}

export interface RequestGateParts {
  decorate: AnswerDecorator;
  lifecycle: Lifecycle;
  rateLimit: ClientRateLimit;
}

/**
 * What every request goes through before Nest sees it, in one `onRequest` hook: its
 * answer is decorated (`answerDecorator`); the health checks then go straight
 * on. Any other request is refused with 503 once the instance is shutting down (on a
 * keep-alive connection still open; the connection is closed), and counted against
 * the client's rate limit (429 beyond it).
 */
export function installRequestGate(fastify: FastifyInstance, { decorate, lifecycle, rateLimit }: RequestGateParts) {
  fastify.addHook('onRequest', (request, reply, done) => {
    decorate(request, reply);
    if (request.headers.host === undefined && request.raw.httpVersion === '1.1') {
      // RFC 9112: a server must answer 400 to an HTTP/1.1 request without Host.
      void reply
        .code(400)
        .type(PROBLEM_CONTENT_TYPE)
        .send(problem(400, 'An HTTP/1.1 request needs a Host header; send one.'));
      return;
    }
    if (request.routeOptions.url?.startsWith('/health')) {
      // Load balancers poll these; during shutdown readiness answers 503 with its reason.
      done();
      return;
    }
    if (lifecycle.refusingRequests) {
      void reply
        .code(503)
        .header('Connection', 'close')
        .header('Retry-After', '1')
        .type(PROBLEM_CONTENT_TYPE)
        .send(problem(503, 'This instance is shutting down; send the request again (another instance will answer).'));
      return;
    }
    rateLimit.check(request, reply, done);
  });
  // Answers to the requests still in flight at shutdown close their connections.
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    if (lifecycle.refusingRequests) {
      void reply.header('Connection', 'close');
    }
    done(null, payload);
  });
}
