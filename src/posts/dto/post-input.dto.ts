import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsString, Matches } from 'class-validator';
import { CodePointLength } from '../../common/code-point-length';
import { IsOmittable } from '../../common/optional';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

const Title = (required = true) =>
  applyDecorators(
    ApiProperty({
      required,
      description: 'The title: 1 to 200 characters, trimmed.',
      example: 'Hello',
      minLength: 1,
      maxLength: 200,
    }),
    ...(required ? [] : [IsOmittable()]),
    Transform(trim),
    IsString({ message: 'title must be a string' }),
    CodePointLength(1, 200, { message: 'title must be 1 to 200 characters after trimming' }),
  );

const Content = (required = true) =>
  applyDecorators(
    ApiProperty({
      required,
      description: 'The text: 1 to 20,000 characters, not only white space.',
      example: 'First post',
      minLength: 1,
      maxLength: 20000,
    }),
    ...(required ? [] : [IsOmittable()]),
    IsString({ message: 'content must be a string' }),
    CodePointLength(1, 20000, { message: 'content must be 1 to 20000 characters' }),
    Matches(/\S/, { message: 'content must not be only white space' }),
  );

const Published = (required = true, description = 'Whether other users see the post.') =>
  applyDecorators(
    ApiProperty({ required, description, example: true }),
    ...(required ? [] : [IsOmittable()]),
    IsBoolean({ message: 'published must be true or false' }),
  );

/** `POST /posts`: `published` defaults to true. */
@ApiSchema({ name: 'NewPost' })
export class CreatePostDto {
  @Title() title: string;
  @Content() content: string;
  @Published(false, 'Whether other users see the post (default true).') published?: boolean;
}

/** `PUT /posts/{id}`: every field is required. */
@ApiSchema({ name: 'PostReplacement' })
export class ReplacePostDto {
  @Title() title: string;
  @Content() content: string;
  @Published() published: boolean;
}

/** `PATCH /posts/{id}`: any subset of the fields, at least one; none may be null. */
@ApiSchema({ name: 'PostChanges' })
export class UpdatePostDto {
  @Title(false) title?: string;
  @Content(false) content?: string;
  @Published(false) published?: boolean;
}
