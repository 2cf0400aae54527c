import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsString } from 'class-validator';
import { CodePointLength } from '../../common/code-point-length';

/** The most characters a comment may have, as PostgreSQL counts them (the column is varchar(2000)). */
export const MAX_COMMENT_LENGTH = 2000;

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

const Content = () =>
  applyDecorators(
    ApiProperty({
      description:
        'The text: 1 to 2,000 characters once white space at both ends is removed (it is stored without it).',
      example: 'Nice post!',
      minLength: 1,
      maxLength: MAX_COMMENT_LENGTH,
    }),
    Transform(trim),
    IsString({ message: 'content must be a string' }),
    CodePointLength(1, MAX_COMMENT_LENGTH, {
      message: `content must be 1 to ${MAX_COMMENT_LENGTH} characters after trimming`,
    }),
  );

/** `POST /posts/{id}/comments`. */
@ApiSchema({ name: 'NewComment' })
export class CreateCommentDto {
  @Content() content: string;
}

/** `PATCH /comments/{id}`: the new text. */
@ApiSchema({ name: 'CommentChanges' })
export class UpdateCommentDto {
  @Content() content: string;
}
