import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { QueryFailedError } from 'typeorm';
import { PROBLEM_CONTENT_TYPE, problem, ProblemDetails, ProblemException, ValidationProblemException } from './problem';

export interface ProblemAnswer {
  body: ProblemDetails;
  headers: Record<string, string>;
}

// Errors of the pg driver and PostgreSQL that mean "the database cannot be reached".
const DATABASE_UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '53300',
]);
/** statement_timeout: this request's statement ran too long (the database itself may be fine). */
const STATEMENT_TIMEOUT = '57014';
const DATABASE_UNAVAILABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|connect ECONNREFUSED|Client has encountered a connection error|Query read timeout/;

/** What a 503 says while the database cannot be reached. */
export const DATABASE_UNAVAILABLE_DETAIL = 'The database is unavailable right now; try again in a few seconds.';

/** What a 400 says for a body that is not JSON. */
export const INVALID_JSON_DETAIL = 'The body is not valid JSON; send a JSON object (or fix the Content-Type header).';

/** Sentences for the client errors Fastify and Nest raise before a route runs, whose own texts say little. */
export const TRANSPORT_DETAILS: Record<number, string> = {
  413: 'The request body is too large; send a smaller body.',
  415: 'This Content-Type is not supported here: send application/json (forms are read only by POST /login and POST /auth/refresh).',
};

/** Turns any error into the RFC 9457 answer the contract promises. */
export function toProblem(error: unknown, logger: Logger): ProblemAnswer {
  if (error instanceof ValidationProblemException) {
    return { body: problem(422, error.message, { errors: error.errors }), headers: {} };
  }
  if (error instanceof ProblemException) {
    return { body: problem(error.getStatus(), error.message, error.extensions), headers: error.headers };
  }
  if (error instanceof HttpException) {
    return { body: problem(error.getStatus(), detailOf(error)), headers: {} };
  }
  const statusCode = (error as { statusCode?: unknown })?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    // A client error Fastify raised itself while reading the request (e.g. a bad Content-Length).
    if ((error as NodeJS.ErrnoException).code === 'ECONNRESET') {
      // Its socket's code, not the database's: nobody is left to read the answer.
      logger.log('The client closed the connection before sending its whole request');
    }
    const detail =
      TRANSPORT_DETAILS[statusCode] ??
      `The request could not be read (${(error as Error).message}); check it and send it again.`;
    return { body: problem(statusCode, detail), headers: {} };
  }
  if (driverErrorCode(error) === STATEMENT_TIMEOUT) {
    logger.warn(`A statement ran past the statement timeout: ${(error as Error).message}`);
    return {
      body: problem(
        503,
        'The request took too long and was stopped; try again in a moment, or ask for less ' +
          '(a smaller limit, a more specific search, the Link cursor instead of skip).',
      ),
      headers: { 'Retry-After': '2' },
    };
  }
  if (isDatabaseUnavailable(error)) {
    logger.error(`Database unavailable: ${(error as Error).message}`);
    return {
      body: problem(503, DATABASE_UNAVAILABLE_DETAIL),
      headers: { 'Retry-After': '5' },
    };
  }
  logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  return {
    body: problem(500, 'Something went wrong on our side; the error was logged. Try again later.'),
    headers: {},
  };
}

function detailOf(error: HttpException): string {
  const status: number = error.getStatus();
  if (status === 404 && /^Cannot [A-Z]+ /.test(error.message)) {
    // Nest's message for an unknown route.
    return `There is no route ${error.message.slice('Cannot '.length)}; the routes are listed at /docs.`;
  }
  if (status in TRANSPORT_DETAILS) {
    return TRANSPORT_DETAILS[status];
  }
  if (status === 400 && error.message.startsWith('Body is not valid JSON')) {
    return INVALID_JSON_DETAIL;
  }
  const response = error.getResponse();
  if (typeof response === 'object' && response !== null && 'message' in response) {
    const { message } = response;
    return Array.isArray(message) ? message.join('; ') : String(message);
  }
  return error.message;
}

function driverErrorCode(error: unknown): unknown {
  const candidate: unknown = error instanceof QueryFailedError ? error.driverError : error;
  return (candidate as { code?: unknown })?.code;
}

function isDatabaseUnavailable(error: unknown): boolean {
  const code = driverErrorCode(error);
  if (typeof code === 'string' && DATABASE_UNAVAILABLE_CODES.has(code)) {
    return true;
  }
  const candidate: unknown = error instanceof QueryFailedError ? error.driverError : error;
  return candidate instanceof Error && DATABASE_UNAVAILABLE_MESSAGES.test(candidate.message);
}

@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Exceptions');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const { httpAdapter } = this.adapterHost;
    const response: unknown = host.switchToHttp().getResponse();
    const { body, headers } = toProblem(error, this.logger);
    for (const [name, value] of Object.entries(headers)) {
      httpAdapter.setHeader(response, name, value);
    }
    httpAdapter.setHeader(response, 'Content-Type', PROBLEM_CONTENT_TYPE);
    httpAdapter.reply(response, body, body.status);
  }
}
