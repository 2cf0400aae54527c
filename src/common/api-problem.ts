import { applyDecorators } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiOAuth2,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import { STATUS_CODES } from 'node:http';
import { PROBLEM_CONTENT_TYPE } from './problem';

class FieldErrorDto {
  @ApiProperty({ example: 'email' })
  field: string;

  @ApiProperty({ example: 'email must be a valid e-mail address' })
  message: string;
}

/** RFC 9457 problem details: the body of every error. */
export class ProblemDetailsDto {
  @ApiProperty({ example: 'about:blank' })
  type: string;

  @ApiProperty({ example: 'Unprocessable Entity' })
  title: string;

  @ApiProperty({ example: 422 })
  status: number;

  @ApiProperty({
    description: 'What went wrong and what to do next.',
    example: 'The request has an invalid field (email): correct it as "errors" describes and send it again.',
  })
  detail: string;

  @ApiPropertyOptional({ type: [FieldErrorDto], description: 'On 422: one entry per bad field.' })
  errors?: FieldErrorDto[];
}

const EXAMPLE_DETAILS: Record<number, string> = {
  400: 'The body is not valid JSON (Unexpected end of JSON input); send a JSON object.',
  401: 'This route needs a bearer token: send the header "Authorization: Bearer <access_token>" with the access_token that POST /login returns.',
  403: 'Only the owner of post 7 may change or delete it.',
  404: 'There is no post with id 7.',
  409: 'An account with this email already exists: log in with POST /login, or register another email.',
  413: 'The request body is too large; send a smaller body.',
  415: 'This Content-Type is not supported: send application/json (or application/x-www-form-urlencoded to POST /login).',
  422: 'The request has an invalid field (email): correct it as "errors" describes and send it again.',
  503: 'The database is unavailable right now; try again in a few seconds.',
};

/** Documents the problem+json answers a route can give. */
export function ApiProblemResponses(...statuses: number[]) {
  return applyDecorators(
    ApiExtraModels(ProblemDetailsDto),
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: STATUS_CODES[status],
        content: {
          [PROBLEM_CONTENT_TYPE]: {
            schema: { $ref: getSchemaPath(ProblemDetailsDto) },
            example: {
              type: 'about:blank',
              title: STATUS_CODES[status],
              status,
              detail: EXAMPLE_DETAILS[status] ?? STATUS_CODES[status],
              ...(status === 422
                ? { errors: [{ field: 'email', message: 'email must be a valid e-mail address' }] }
                : {}),
            },
          },
        },
      }),
    ),
  );
}

/** A protected route: the bearer token from `POST /login` (Swagger UI's "Authorize"), and its 401. */
export function ApiBearerAuthRequired() {
  return applyDecorators(ApiOAuth2([], 'oauth2'), ApiProblemResponses(401));
}
