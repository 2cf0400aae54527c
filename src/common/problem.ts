import { HttpException, HttpStatus, UnprocessableEntityException } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface FieldError {
  field: string;
  message: string;
}

/** RFC 9457 problem details, as every error of the API is answered. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

export function problem(status: number, detail: string, extensions: Record<string, unknown> = {}): ProblemDetails {
  return {
    type: 'about:blank',
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail,
    ...extensions,
  };
}

/** 422 with one entry per bad field. */
export class ValidationProblemException extends UnprocessableEntityException {
  constructor(readonly errors: FieldError[]) {
    const fields = [...new Set(errors.map((error) => error.field))];
    super(
      `The request has ${errors.length === 1 ? 'an invalid field' : 'invalid fields'} ` +
        `(${fields.join(', ')}): correct ${fields.length === 1 ? 'it' : 'them'} as "errors" describes and send it again.`,
    );
  }
}

/** An error answered with extra headers, such as `WWW-Authenticate` on a 401. */
export class ProblemException extends HttpException {
  constructor(
    status: HttpStatus,
    detail: string,
    readonly headers: Record<string, string> = {},
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail, status);
  }
}

/** A 401 for a bad or expired token, with the header RFC 6750 asks for. */
export function invalidTokenException(detail: string): ProblemException {
  return new ProblemException(HttpStatus.UNAUTHORIZED, detail, {
    'WWW-Authenticate': 'Bearer error="invalid_token"',
  });
}

/** The 401 of a request whose account was deleted while it ran (after its token was checked). */
export function accountGoneException(): ProblemException {
  return invalidTokenException('The account of this access token no longer exists; nothing was changed.');
}
