import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsString, Max, MaxLength, Min } from 'class-validator';
import { IsOmittable, toInteger } from './optional';

const LIMIT_MESSAGE = 'limit must be an integer from 1 to 100';

/** `limit` of a list paged by an id cursor: 1 to 100 `things` (give the field the default 20). */
export function PageLimit(things: string): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      type: 'integer',
      format: 'int32',
      description: `How many ${things} to return: 1 to 100.`,
      default: 20,
      minimum: 1,
      maximum: 100,
      example: 20,
    }),
    IsOmittable(),
    Transform(toInteger),
    IsInt({ message: LIMIT_MESSAGE }),
    Min(1, { message: LIMIT_MESSAGE }),
    Max(100, { message: LIMIT_MESSAGE }),
  );
}

/** `cursor` of such a list: what the `Link` header of the previous page carries (see id-cursor.ts). */
export function PageCursor(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      description: 'Where to continue: copy it from the `rel="next"` URL of the `Link` header of the previous page.',
      example: 'aTQy',
      maxLength: 64,
    }),
    IsOmittable(),
    IsString({ message: 'cursor must be a single string' }),
    MaxLength(64, { message: 'cursor is not one this service issued; follow the URL of the Link header' }),
  );
}
