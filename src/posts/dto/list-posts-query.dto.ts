import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsString, Max, Min } from 'class-validator';
import { MAX_ID } from '../../common/validation.pipe';
import { CodePointLength } from '../../common/code-point-length';
import { IsOmittable, toInteger } from '../../common/optional';
import type { PostOrder } from '../posts.queries';

const POST_ORDERS: PostOrder[] = ['new', 'top'];

/** A skipped row still costs a read: deeper than this, a page would hold a connection for long. */
export const MAX_SKIP = 10_000;

export class ListPostsQueryDto {
  @ApiPropertyOptional({
    type: 'integer',
    format: 'int32',
    description: 'How many posts to return: 1 to 100.',
    default: 10,
    minimum: 1,
    maximum: 100,
    example: 10,
  })
  @IsOmittable()
  @Transform(toInteger)
  @IsInt({ message: 'limit must be an integer from 1 to 100' })
  @Min(1, { message: 'limit must be an integer from 1 to 100' })
  @Max(100, { message: 'limit must be an integer from 1 to 100' })
  limit: number = 10;

  @ApiPropertyOptional({
    type: 'integer',
    format: 'int32',
    description:
      'How many posts to skip, from the start of the order: 0 to 10,000. Deeper pages follow the cursor of the `Link` header, ' +
      'which costs what the first page costs at any depth.',
    default: 0,
    minimum: 0,
    maximum: MAX_SKIP,
    example: 0,
  })
  @IsOmittable()
  @Transform(toInteger)
  @IsInt({ message: 'skip must be an integer of 0 or more' })
  @Min(0, { message: 'skip must be an integer of 0 or more' })
  @Max(MAX_SKIP, {
    message: `skip must be at most ${MAX_SKIP}; for deeper pages follow the cursor URL of the Link header (rel="next") of the previous page`,
  })
  skip: number = 0;

  @ApiPropertyOptional({
    description: 'Only posts whose title contains this text, case-insensitively; `%` and `_` are plain characters.',
    example: 'hello',
    maxLength: 200,
  })
  @IsOmittable()
  @IsString({ message: 'search must be a single string' })
  @CodePointLength(0, 200, { message: 'search must be at most 200 characters' })
  search: string = '';

  @ApiPropertyOptional({
    description:
      'Where to continue: copy it from the `rel="next"` URL of the `Link` header of the previous page. ' +
      'Pages by cursor stay fast and stable however deep you go; do not combine it with `skip`.',
    example: 'MTc5NTMyMDcwNzEyMzQ1Ni40Mg',
    maxLength: 64,
  })
  @IsOmittable()
  @IsString({ message: 'cursor must be a single string' })
  @CodePointLength(1, 64, { message: 'cursor is not one this service issued; follow the URL of the Link header' })
  cursor?: string;

  @ApiPropertyOptional({
    type: 'integer',
    format: 'int32',
    description: "Only this author's posts (their drafts only for the author). An id no user has gives [].",
    minimum: 1,
    maximum: MAX_ID,
    example: 7,
  })
  @IsOmittable()
  @Transform(toInteger)
  @IsInt({ message: `owner_id must be a positive integer no larger than ${MAX_ID}` })
  @Min(1, { message: `owner_id must be a positive integer no larger than ${MAX_ID}` })
  @Max(MAX_ID, { message: `owner_id must be a positive integer no larger than ${MAX_ID}` })
  owner_id?: number;

  @ApiPropertyOptional({
    description: 'Only the posts of the user with this username (any case). A username no user has gives [].',
    example: 'alice',
    maxLength: 254,
  })
  @IsOmittable()
  @IsString({ message: 'author must be a single string' })
  @CodePointLength(1, 254, { message: 'author must be 1 to 254 characters' })
  author?: string;

  @ApiPropertyOptional({
    description: 'true: only the posts you voted for; false: only those you did not.',
    enum: ['true', 'false'],
    example: 'true',
  })
  @IsOmittable()
  @IsIn(['true', 'false'], { message: 'voted must be true or false' })
  voted?: 'true' | 'false';

  @ApiPropertyOptional({
    description:
      '`new`: newest first; `top`: most votes first, then newest. The cursor of the `Link` header continues the same order.',
    enum: POST_ORDERS,
    default: 'new',
    example: 'top',
  })
  @IsOmittable()
  @IsIn(POST_ORDERS, { message: 'sort must be new or top' })
  sort: PostOrder = 'new';
}
