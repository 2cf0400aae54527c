import { applyDecorators } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiOAuth2,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  ApiSchema,
  getSchemaPath,
} from '@nestjs/swagger';
import { STATUS_CODES } from 'node:http';
import { type FieldError, PROBLEM_CONTENT_TYPE, ValidationProblemException } from './problem';
import { TRANSPORT_DETAILS } from './problem-details.filter';

@ApiSchema({ name: 'FieldError' })
class FieldErrorDto {
  @ApiProperty({ description: 'The field, query parameter or path parameter that is wrong.', example: 'title' })
  field: string;

  @ApiProperty({
    description: 'What is wrong with it, and so what to send instead.',
    example: 'title must be 1 to 200 characters after trimming',
  })
  message: string;
}

/** RFC 9457 problem details: the body of every error. */
@ApiSchema({ name: 'Problem' })
export class ProblemDetailsDto {
  @ApiProperty({ description: 'Always `about:blank`: `title` is the HTTP status phrase.', example: 'about:blank' })
  type: string;

  @ApiProperty({ description: 'The HTTP status phrase.', example: 'Unprocessable Entity' })
  title: string;

  @ApiProperty({ description: 'The HTTP status code, as in the status line.', example: 422 })
  status: number;

  @ApiProperty({
    description: 'What went wrong and what to do next.',
    example: 'The request has an invalid field (title): correct it as "errors" describes and send it again.',
  })
  detail: string;

  @ApiPropertyOptional({ type: [FieldErrorDto], description: 'On 422: one entry per bad field.' })
  errors?: FieldError[];
}

/**
 * The example `detail` of each status where a route names no example of its own: the
 * texts the service sends (the post and vote routes use these).
 */
const EXAMPLE_DETAILS: Record<number, string> = {
  400: 'The body is not valid JSON; send a JSON object (or fix the Content-Type header).',
  401: 'This route needs a bearer token: send the header "Authorization: Bearer <access_token>" with the access_token that POST /login returns.',
  403: 'Only the owner of post 7 may change or delete it.',
  404: 'There is no post with id 7 that you can see; GET /posts lists those you can.',
  409: 'You have already voted on post 7; send dir 0 to remove your vote.',
  413: TRANSPORT_DETAILS[413],
  415: TRANSPORT_DETAILS[415],
  503: 'The database is unavailable right now; try again in a few seconds.',
};

const EXAMPLE_FIELD_ERRORS: FieldError[] = [
  { field: 'title', message: 'title must be 1 to 200 characters after trimming' },
];

interface ResponseHeader {
  description: string;
  schema: Record<string, unknown>;
}

/** A problem answer with the example that fits the route. */
export interface ProblemExample {
  status: number;
  /** The example `detail`; for a 422 it follows from `errors`, as the service words it. */
  detail?: string;
  /** For a 422: the example field errors. */
  errors?: FieldError[];
  /** Extra members the answer carries (e.g. `database` on the 503 of GET /health). */
  extensions?: Record<string, unknown>;
  /** Response headers the answer carries, besides the `Retry-After` of every 429 and 503. */
  headers?: Record<string, ResponseHeader>;
}

const RETRY_AFTER: Record<string, ResponseHeader> = {
  'Retry-After': { description: 'Seconds to wait before trying again.', schema: { type: 'integer', example: 5 } },
};

const HEADERS: Record<number, Record<string, ResponseHeader>> = { 429: RETRY_AFTER, 503: RETRY_AFTER };

/** What the token check answers on every protected route. */
const BEARER_CHALLENGE: Record<string, ResponseHeader> = {
  'WWW-Authenticate': {
    description: '`Bearer` without a token; `Bearer error="invalid_token"` for a bad or expired one.',
    schema: { type: 'string', example: 'Bearer' },
  },
};

function exampleBody({ status, detail, errors, extensions }: ProblemExample): Record<string, unknown> {
  const fieldErrors = status === 422 ? (errors ?? EXAMPLE_FIELD_ERRORS) : undefined;
  return {
    type: 'about:blank',
    title: STATUS_CODES[status],
    status,
    detail:
      detail ??
      (fieldErrors
        ? new ValidationProblemException(fieldErrors).message
        : (EXAMPLE_DETAILS[status] ?? STATUS_CODES[status])),
    ...(fieldErrors ? { errors: fieldErrors } : {}),
    ...extensions,
  };
}

/**
 * Documents the problem+json answers a route can give: a status alone takes the usual
 * example, `{ status, detail }` (or `{ status: 422, errors }`) the route's own.
 */
export function ApiProblemResponses(...responses: (number | ProblemExample)[]) {
  return applyDecorators(
    ApiExtraModels(ProblemDetailsDto),
    ...responses.map((response) => {
      const example = typeof response === 'number' ? { status: response } : response;
      const headers = { ...HEADERS[example.status], ...example.headers };
      return ApiResponse({
        status: example.status,
        description: STATUS_CODES[example.status],
        headers: Object.keys(headers).length > 0 ? headers : undefined,
        content: {
          [PROBLEM_CONTENT_TYPE]: {
            schema: { $ref: getSchemaPath(ProblemDetailsDto) },
            example: exampleBody(example),
          },
        },
      });
    }),
  );
}

/**
 * A protected route: the bearer token from `POST /login` (Swagger UI's "Authorize"), its
 * 401, and the 503 of the token check, which looks the session up in the database.
 */
export function ApiBearerAuthRequired() {
  return applyDecorators(ApiOAuth2([], 'oauth2'), ApiProblemResponses({ status: 401, headers: BEARER_CHALLENGE }, 503));
}
