import { HttpStatus } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isHealthCheckRoute } from '../common/health-check-route';
import { ProblemException } from '../common/problem';
import type { Lifecycle } from '../lifecycle/lifecycle.service';
import type { ClientRateLimit } from './client-rate-limit';
import { sendProblem } from './problem-reply';
import { REQUEST_ID_HEADER } from './request-id';

export type CommonHeaders = (request: FastifyRequest, reply: FastifyReply) => void;

/**
 * Sets what every answer carries: its request's X-Request-Id and the security headers
 * (those of the docs pages under /docs, whose policy lets their scripts run).
 */
export function commonHeaders(securityHeaders: {
  api: Record<string, string>;
  docs: Record<string, string>;
}): CommonHeaders {
  return (request, reply) => {
    const page = request.url.startsWith('/docs') ? securityHeaders.docs : securityHeaders.api;
    void reply.header(REQUEST_ID_HEADER, request.id).headers(page);
  };
}

const MISSING_HOST = new ProblemException(HttpStatus.BAD_REQUEST, 'An HTTP/1.1 request needs a Host header; send one.');
const BODY_ON_GET = new ProblemException(
  HttpStatus.BAD_REQUEST,
  'GET and HEAD requests take no body; send the parameters in the URL.',
);
const SHUTTING_DOWN = new ProblemException(
  HttpStatus.SERVICE_UNAVAILABLE,
  'This instance is shutting down; send the request again (another instance will answer).',
  { Connection: 'close', 'Retry-After': '1' },
);

/**
 * What every request goes through before Nest's router, in one `onRequest` hook: its
 * answer gets the common headers; an HTTP/1.1 request without Host, and a GET or HEAD
 * with a body, are refused (400);
 * the health checks then go straight on; any other request is refused with 503 once
 * the instance is shutting down (on a keep-alive connection still open; the connection
 * is closed), and counted against the client's rate limit (429 beyond it).
 */
export function installRequestGate(
  fastify: FastifyInstance,
  parts: { setCommonHeaders: CommonHeaders; lifecycle: Lifecycle; rateLimit: ClientRateLimit },
): void {
  const { setCommonHeaders, lifecycle, rateLimit } = parts;
  fastify.addHook('onRequest', (request, reply, done) => {
    setCommonHeaders(request, reply);
    if (request.headers.host === undefined && request.raw.httpVersion === '1.1') {
      // RFC 9112: a server must answer 400 to an HTTP/1.1 request without Host.
      sendProblem(reply, MISSING_HOST);
      return;
    }
    if ((request.method === 'GET' || request.method === 'HEAD') && carriesBody(request)) {
      // Nothing reads such a body: left unread while a large answer is written, it got the
      // connection reset before the client had the answer (a 256 KiB body and the 140 KB /openapi.yaml).
      sendProblem(reply, BODY_ON_GET);
      return;
    }
    if (isHealthCheckRoute(request)) {
      // Load balancers poll these; during shutdown readiness answers 503 with its reason.
      done();
      return;
    }
    if (lifecycle.refusingRequests) {
      sendProblem(reply, SHUTTING_DOWN);
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

function carriesBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
