import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const REQUEST_ID_HEADER = 'X-Request-Id';

/** An incoming X-Request-Id is kept when it is this tame; otherwise the request gets a new one. */
const ACCEPTABLE_REQUEST_ID = /^[\w.:@/+=-]{1,128}$/;

/** Fastify's `genReqId`: the client's X-Request-Id when it is acceptable, else a new UUID. */
export function requestIdFor(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && ACCEPTABLE_REQUEST_ID.test(given) ? given : randomUUID();
}

/** The id of an answer given before any request exists (the HTTP parser's own refusals). */
export function newRequestId(): string {
  return randomUUID();
}
