import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest, RawServerDefault } from 'fastify';
import { HttpStatus } from '@nestjs/common';
import { PROBLEM_CONTENT_TYPE, problem, ProblemException } from '../common/problem';
import { REQUEST_ID_HEADER } from '../logging/logging.module';

/** No route takes a body nested deeper than 2; class-transformer overflows its stack around 1,500. */
export const MAX_JSON_DEPTH = 32;

/** Whether a JSON text opens more than `max` objects or arrays inside each other. */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 0x5c) {
        i += 1; // the escaped character
      } else if (code === 0x22) {
        inString = false;
      }
    } else if (code === 0x22) {
      inString = true;
    } else if (code === 0x7b || code === 0x5b) {
      depth += 1;
      if (depth > max) {
        return true;
      }
    } else if (code === 0x7d || code === 0x5d) {
      depth -= 1;
    }
  }
  return false;
}

/** A `\uD800`-`\uDFFF` escape: the only way a JSON text can carry half a surrogate pair. */
const LONE_SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Fastify's own JSON parser (which refuses `__proto__` and `constructor.prototype`
 * keys), behind a depth check: a deeply nested body is a 400, not a stack overflow.
 * Unpaired surrogates become U+FFFD (see `wellFormed`).
 */
export function refuseDeepJson(app: NestFastifyApplication, bodyLimit: number): void {
  const parseJson = app.getHttpAdapter().getInstance().getDefaultJsonParser('error', 'error');
  app.useBodyParser<RawServerDefault>('application/json', { bodyLimit }, (request, body, done) => {
    const text = body.toString('utf8');
    if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) {
      done(
        new ProblemException(
          HttpStatus.BAD_REQUEST,
          `The JSON body nests objects or arrays more than ${MAX_JSON_DEPTH} levels deep; send the documented flat object.`,
        ),
        undefined,
      );
      return;
    }
    if (!LONE_SURROGATE_ESCAPE.test(text)) {
      void parseJson(request, text, done);
      return;
    }
    void parseJson(request, text, (error, value) => done(error, error ? undefined : wellFormed(value)));
  });
}

/**
 * Every string with its unpaired surrogates replaced by U+FFFD, as invalid UTF-8 bytes
 * already are: validator.js's e-mail check, among others, throws on them (encodeURI).
 */
export function wellFormed(value: unknown): unknown {
  if (typeof value === 'string') {
    return value.replace(LONE_SURROGATE, '\uFFFD');
  }
  if (Array.isArray(value)) {
    return value.map(wellFormed);
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      (value as Record<string, unknown>)[key] = wellFormed(item);
    }
  }
  return value;
}

const FRAMEWORK_DETAILS: Record<string, [status: number, detail: string]> = {
  FST_ERR_BAD_URL: [400, 'The URL is malformed (an invalid %-escape); percent-encode it correctly.'],
  FST_ERR_MAX_PARAM_LENGTH: [414, 'A path segment is too long; no id or name of this API is that long.'],
};

/**
 * Errors the router raises before any hook runs (a malformed URL, an over-long path
 * segment), answered as problem details like every other error, without echoing the path.
 */
export function frameworkErrorHandler(
  decorate: (request: FastifyRequest, reply: FastifyReply) => void,
): (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => void {
  return (error, request, reply) => {
    const [status, detail] = FRAMEWORK_DETAILS[error.code] ?? [400, 'The request could not be routed; check its URL.'];
    decorate(request, reply);
    void reply.code(status).type(PROBLEM_CONTENT_TYPE).send(problem(status, detail));
  };
}

const CLIENT_ERRORS: Record<string, [status: number, detail: string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'The request was not received in time; send it again, whole.'],
  HPE_HEADER_OVERFLOW: [431, 'The request headers are too large; send shorter headers.'],
};

/**
 * Requests Node's HTTP parser refuses (broken framing, bad Content-Length, headers too
 * large, too slow) never reach Fastify: they are answered here, on the socket, as
 * problem details with the security headers every answer carries and a request id of
 * their own, and the connection is closed.
 */
export function clientErrorHandler(
  securityHeaders: Record<string, string>,
): (error: NodeJS.ErrnoException, socket: Socket) => void {
  const headerLines = Object.entries(securityHeaders)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return (error, socket) => {
    if (error.code === 'ECONNRESET' || socket.destroyed) {
      return;
    }
    const [status, detail] = CLIENT_ERRORS[error.code ?? ''] ?? [
      400,
      'The request is not valid HTTP (its framing, a header or its Content-Length); check the client that sent it.',
    ];
    const body = JSON.stringify(problem(status, detail));
    if (socket.writable) {
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
          `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\n` +
          `${REQUEST_ID_HEADER}: ${randomUUID()}\r\n` +
          headerLines +
          'Connection: close\r\n\r\n' +
          body,
      );
    }
    socket.destroy();
  };
}
