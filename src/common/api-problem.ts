import { applyDecorators, type Type } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiOAuth2,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  ApiSchema,
  getSchemaPath,
  type HeaderObject,
  type ReferenceObject,
} from '@nestjs/swagger';
import { STATUS_CODES } from 'node:http';
import { type FieldError, PROBLEM_CONTENT_TYPE, ValidationProblemException } from './problem';
import { MISSING_TOKEN_DETAIL } from './identity/authenticated-user';
import { DATABASE_UNAVAILABLE_DETAIL, INVALID_JSON_DETAIL, TRANSPORT_DETAILS } from './problem-details.filter';
import { MAX_ID } from './validation.pipe';

/** The schema of an id: a positive PostgreSQL `integer`. */
export const ID_PROPERTY = { type: 'integer', format: 'int32', minimum: 1, maximum: MAX_ID } as const;

/** A timestamp as `Date.toISOString()` writes it: 24 characters, 27 for a year beyond 9999. */
export const TIMESTAMP_PROPERTY = { format: 'date-time', maxLength: 27 } as const;

/**
 * The name of an unknown field comes back in `errors` and `detail`: only the request body
 * limit (256 KiB, src/entrance/entrance.ts) bounds it...
 */
const ECHOED_TEXT_MAX_LENGTH = 256 * 1024;
/** ...and a sentence around it. */
const SENTENCE_MAX_LENGTH = ECHOED_TEXT_MAX_LENGTH + 1024;
/** One error per field, and a field of a form (`a&b&c`) takes at least 2 bytes of the body. */
const FIELD_ERRORS_MAX_ITEMS = ECHOED_TEXT_MAX_LENGTH / 2;

/** The longest window of a limit the configuration allows (RATE_LIMIT_WINDOW_SECONDS, LOGIN_WINDOW_SECONDS). */
const LONGEST_WINDOW_SECONDS = 86_400;
/** The largest RATE_LIMIT_MAX the configuration allows. */
const LARGEST_REQUEST_LIMIT = 100_000_000;

@ApiSchema({ name: 'FieldError' })
class FieldErrorDto {
  @ApiProperty({
    description: 'The field, query parameter or path parameter that is wrong (an unknown one is named as sent).',
    example: 'title',
    maxLength: ECHOED_TEXT_MAX_LENGTH,
  })
  field: string;

  @ApiProperty({
    description: 'What is wrong with it, and so what to send instead.',
    example: 'title must be 1 to 200 characters after trimming',
    minLength: 1,
    maxLength: SENTENCE_MAX_LENGTH,
  })
  message: string;
}

/** RFC 9457 problem details: the body of every error. */
@ApiSchema({ name: 'Problem' })
export class ProblemDetailsDto {
  @ApiProperty({
    description: 'Always `about:blank`: `title` is the HTTP status phrase.',
    example: 'about:blank',
    format: 'uri',
    maxLength: 2048,
  })
  type: string;

  @ApiProperty({
    description: 'The HTTP status phrase.',
    example: 'Unprocessable Entity',
    pattern: "^[A-Za-z][A-Za-z' -]*$",
    maxLength: 64,
  })
  title: string;

  @ApiProperty({
    type: 'integer',
    format: 'int32',
    minimum: 400,
    maximum: 599,
    description: 'The HTTP status code, as in the status line.',
    example: 422,
  })
  status: number;

  @ApiProperty({
    description: 'What went wrong and what to do next.',
    example: 'The request has an invalid field (title): correct it as "errors" describes and send it again.',
    minLength: 1,
    maxLength: SENTENCE_MAX_LENGTH,
  })
  detail: string;

  @ApiPropertyOptional({
    type: [FieldErrorDto],
    description: 'On 422: one entry per bad field.',
    maxItems: FIELD_ERRORS_MAX_ITEMS,
  })
  errors?: FieldError[];
}

/**
 * The example `detail` of each status where a route names no example of its own: the
 * texts the service sends (the post and vote routes use these).
 */
const EXAMPLE_DETAILS: Record<number, string> = {
  400: INVALID_JSON_DETAIL,
  401: MISSING_TOKEN_DETAIL,
  403: 'Only the owner of post 7 may change or delete it.',
  404: 'There is no post with id 7 that you can see; GET /posts lists those you can.',
  409: 'You have already voted on post 7; send dir 0 to remove your vote.',
  412:
    'Post 7 has changed since the ETag you sent in If-Match (or that is not one of its ETags): ' +
    'GET /posts/7 again and retry with the ETag it answers.',
  413: TRANSPORT_DETAILS[413],
  415: TRANSPORT_DETAILS[415],
  // The per-client request limit of src/entrance/client-rate-limit.ts.
  429: 'Too many requests from your address; try again in 17 seconds.',
  503: DATABASE_UNAVAILABLE_DETAIL,
};

/** The `Retry-After` of each example above that has one. */
const EXAMPLE_RETRY_AFTER: Record<number, number> = { 429: 17, 503: 5 };

const EXAMPLE_FIELD_ERRORS: FieldError[] = [
  { field: 'title', message: 'title must be 1 to 200 characters after trimming' },
];

type ResponseHeaders = Record<string, HeaderObject | ReferenceObject>;

/**
 * The headers of the per-client request limit, which every answer carries but those of
 * the health checks (and of the few refusals made before the limit counts: a request
 * without Host, the shutdown's 503). Defined once in `components.headers`.
 */
export const RATE_LIMIT_HEADER_DEFINITIONS: Record<string, HeaderObject> = {
  'X-RateLimit-Limit': {
    description: 'How many requests your address may send per time window (RATE_LIMIT_MAX).',
    schema: { type: 'integer', format: 'int32', minimum: 1, maximum: LARGEST_REQUEST_LIMIT, example: 600 },
  },
  'X-RateLimit-Remaining': {
    description: 'How many of them are left in this window.',
    schema: { type: 'integer', format: 'int32', minimum: 0, maximum: LARGEST_REQUEST_LIMIT, example: 599 },
  },
  'X-RateLimit-Reset': {
    description: 'Seconds until the window ends and the count starts again.',
    schema: { type: 'integer', format: 'int32', minimum: 1, maximum: LONGEST_WINDOW_SECONDS, example: 42 },
  },
};

/** The rate-limit headers of an answer: put them on every success of a rate-limited route. */
export const RATE_LIMIT_HEADERS: ResponseHeaders = Object.fromEntries(
  Object.keys(RATE_LIMIT_HEADER_DEFINITIONS).map((name) => [name, { $ref: `#/components/headers/${name}` }]),
);

/** A problem answer with the example that fits the route. */
export interface ProblemExample {
  status: number;
  /** The example `detail`; for a 422 it follows from `errors`, as the service words it. */
  detail?: string;
  /** For a 422: the example field errors. */
  errors?: FieldError[];
  /** The example `Retry-After` of a 429 or 503, when the route names its own `detail`. */
  retryAfter?: number;
  /** Extra members the answer carries (e.g. `database` on the 503 of GET /health)... */
  extensions?: Record<string, unknown>;
  /** ...and the schema that describes them, a subclass of `ProblemDetailsDto` (else `Problem`). */
  type?: Type<ProblemDetailsDto>;
  /** Response headers the answer carries, besides `Retry-After` and the rate-limit headers. */
  headers?: ResponseHeaders;
}

function retryAfterHeader(example: number): ResponseHeaders {
  return {
    'Retry-After': {
      description: 'Seconds to wait before trying again.',
      schema: { type: 'integer', format: 'int32', minimum: 1, maximum: LONGEST_WINDOW_SECONDS, example },
    },
  };
}

/** What the token check answers on every protected route. */
const BEARER_CHALLENGE: ResponseHeaders = {
  'WWW-Authenticate': {
    description: '`Bearer` without a token; `Bearer error="invalid_token"` for a bad or expired one.',
    schema: { type: 'string', enum: ['Bearer', 'Bearer error="invalid_token"'], example: 'Bearer' },
  },
};

function headersOf({ status, retryAfter, headers }: ProblemExample): ResponseHeaders | undefined {
  const waitSeconds = retryAfter ?? EXAMPLE_RETRY_AFTER[status];
  const all = {
    ...(waitSeconds === undefined ? {} : retryAfterHeader(waitSeconds)),
    // The request limit has counted the request before its route answers a 4xx.
    ...(status < 500 ? RATE_LIMIT_HEADERS : {}),
    ...headers,
  };
  return Object.keys(all).length > 0 ? all : undefined;
}

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
  const examples = responses.map((response): ProblemExample =>
    typeof response === 'number' ? { status: response } : response,
  );
  return applyDecorators(
    ApiExtraModels(ProblemDetailsDto, ...examples.flatMap((example) => (example.type ? [example.type] : []))),
    ...examples.map((example) =>
      ApiResponse({
        status: example.status,
        description: STATUS_CODES[example.status],
        headers: headersOf(example),
        content: {
          [PROBLEM_CONTENT_TYPE]: {
            schema: { $ref: getSchemaPath(example.type ?? ProblemDetailsDto) },
            example: exampleBody(example),
          },
        },
      }),
    ),
  );
}

/**
 * A protected route: the bearer token from `POST /login` (Swagger UI's "Authorize"), its
 * 401, the 429 of the per-client request limit, and the 503 of the token check, which
 * looks the session up in the database.
 */
export function ApiBearerAuthRequired() {
  return applyDecorators(
    ApiOAuth2([], 'oauth2'),
    ApiProblemResponses({ status: 401, headers: BEARER_CHALLENGE }, 429, 503),
  );
}
