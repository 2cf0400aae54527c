import { Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { toProblem } from '../common/problem-details.filter';
import { PROBLEM_CONTENT_TYPE, type ProblemDetails } from '../common/problem';

const logger = new Logger('Entrance');

/** The problem+json answer (body and headers) of an error, built as the exception filter builds it. */
export function problemAnswer(error: unknown): { body: ProblemDetails; headers: Record<string, string> } {
  return toProblem(error, logger);
}

/** Sends the refusal of a request the router has not reached, in the exception filter's words. */
export function sendProblem(reply: FastifyReply, error: unknown): void {
  const { body, headers } = problemAnswer(error);
  void reply.code(body.status).headers(headers).type(PROBLEM_CONTENT_TYPE).send(body);
}
