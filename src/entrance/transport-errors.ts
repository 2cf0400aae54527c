import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { HttpStatus } from '@nestjs/common';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_CONTENT_TYPE, ProblemException } from '../common/problem';
import { problemAnswer, sendProblem } from './problem-reply';
import { newRequestId, REQUEST_ID_HEADER } from './request-id';

const FRAMEWORK_DETAILS: Record<string, [status: number, detail: string]> = {
  FST_ERR_BAD_URL: [400, 'The URL is malformed (an invalid %-escape); percent-encode it correctly.'],
  FST_ERR_MAX_PARAM_LENGTH: [414, 'A path segment is too long; no id or name of this API is that long.'],
};

/**
 * Errors the router raises before any hook runs (a malformed URL, an over-long path
 * segment), answered as problem details like every other error, without echoing the path.
 */
export function frameworkErrorHandler(
  setCommonHeaders: (request: FastifyRequest, reply: FastifyReply) => void,
): (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => void {
  return (error, request, reply) => {
    const [status, detail] = FRAMEWORK_DETAILS[error.code] ?? [400, 'The request could not be routed; check its URL.'];
    setCommonHeaders(request, reply);
    sendProblem(reply, new ProblemException(status, detail));
  };
}

const CLIENT_ERRORS: Record<string, [status: number, detail: string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: [HttpStatus.REQUEST_TIMEOUT, 'The request was not received in time; send it again, whole.'],
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
      HttpStatus.BAD_REQUEST,
      'The request is not valid HTTP (its framing, a header or its Content-Length); check the client that sent it.',
    ];
    const { body } = problemAnswer(new ProblemException(status, detail));
    const text = JSON.stringify(body);
    if (socket.writable) {
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
          `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
          `Content-Length: ${Buffer.byteLength(text)}\r\n` +
          `${REQUEST_ID_HEADER}: ${newRequestId()}\r\n` +
          headerLines +
          'Connection: close\r\n\r\n' +
          text,
      );
    }
    socket.destroy();
  };
}
