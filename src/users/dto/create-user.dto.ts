import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsString } from 'class-validator';
import { CodePointLength } from '../../common/code-point-length';
import { NoLookalikeCharacters } from '../../common/lookalike-characters';
import { IsPassword } from '../../common/identity/password.validator';
import { IsOmittable } from '../../common/optional';
import { IsUsername } from './username';

export const normalizeEmail = ({ value }: { value: unknown }) =>
  typeof value === 'string' ? value.trim().toLowerCase() : value;

/** An e-mail address in a request body: checked, trimmed and lower-cased. */
export function IsEmailAddress(options: { required: boolean; description?: string }): PropertyDecorator {
  return applyDecorators(
    ApiProperty({
      description:
        options.description ??
        'A valid e-mail address, at most 254 characters, without invisible, bidirectional-control or full-width ' +
          'characters; trimmed and stored lower-case. Unique, case-insensitively.',
      example: 'alice@example.com',
      format: 'email',
      maxLength: 254,
      required: options.required,
    }),
    Transform(normalizeEmail),
    IsString({ message: 'email must be a string' }),
    CodePointLength(1, 254, { message: 'email must be at most 254 characters' }),
    IsEmail({}, { message: 'email must be a valid e-mail address' }),
    NoLookalikeCharacters(),
  );
}

@ApiSchema({ name: 'NewUser' })
export class CreateUserDto {
  @IsEmailAddress({ required: true })
  email: string;

  @IsOmittable()
  @IsUsername({ required: false })
  username?: string;

  @ApiProperty({
    description:
      '8 to 72 bytes of UTF-8 (bcrypt reads no more than 72 bytes; longer passwords are refused, never cut).',
    example: 'correct horse battery staple',
    minLength: 8,
    // 72 bytes are at most 72 characters.
    maxLength: 72,
    format: 'password',
  })
  @IsPassword()
  password: string;
}
