import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { IsIn, IsNotEmpty, IsString, MaxLength } from 'class-validator';
import { IsOmittable } from '../../common/optional';

/** The OAuth2 fields the token routes accept and ignore may be this long (422 beyond). */
const IGNORED_FIELD_MAX_LENGTH = 1024;

/** A field the token routes accept and ignore: an optional string of at most 1,024 characters. */
const IgnoredField = (description: string, example = '') =>
  applyDecorators(
    ApiPropertyOptional({ description, example, maxLength: IGNORED_FIELD_MAX_LENGTH }),
    IsOmittable(),
    IsString(),
    MaxLength(IGNORED_FIELD_MAX_LENGTH),
  );

/** What an OAuth2 client may send to either token route besides its grant: accepted, ignored. */
abstract class OAuth2ClientFields {
  @IgnoredField('Ignored.')
  scope?: string;

  @IgnoredField('Ignored; Swagger UI sends it when filled in.')
  client_id?: string;

  @IgnoredField('Ignored; Swagger UI sends it when filled in.')
  client_secret?: string;
}

/**
 * The OAuth2 password grant, as a form (what Swagger UI and the FastAPI original send)
 * or as JSON. `grant_type`, `scope`, `client_id` and `client_secret` are accepted and ignored.
 */
@ApiSchema({ name: 'Credentials' })
export class LoginDto extends OAuth2ClientFields {
  @ApiProperty({ description: 'The e-mail address of the account.', example: 'alice@example.com', maxLength: 1024 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(1024)
  username: string;

  @ApiProperty({
    description: 'The password.',
    example: 'correct horse battery staple',
    format: 'password',
    maxLength: 1024,
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(1024)
  password: string;

  @IgnoredField('Ignored (OAuth2: "password").', 'password')
  grant_type?: string;
}

@ApiSchema({ name: 'Tokens' })
export class TokenResponseDto {
  @ApiProperty({
    description: 'A JWT (HS256) to send as `Authorization: Bearer <access_token>`.',
    pattern: '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$',
    maxLength: 2048,
    example: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIiwidXNlcl9pZCI6MSwic2lkIjozfQ.sig',
  })
  access_token: string;

  @ApiProperty({
    enum: ['bearer'],
    description: 'Always `bearer`: the token goes in the Authorization header.',
    example: 'bearer',
  })
  token_type: 'bearer';

  @ApiProperty({
    type: 'integer',
    format: 'int32',
    // ACCESS_TOKEN_EXPIRE_MINUTES: 1 to 1440.
    minimum: 60,
    maximum: 86_400,
    description: 'Seconds until the access token expires.',
    example: 1800,
  })
  expires_in: number;

  @ApiProperty({
    description: 'Opaque; send it to POST /auth/refresh for new tokens. Each refresh token works once.',
    pattern: '^[A-Za-z0-9_-]+$',
    maxLength: 512,
    example: 'q8H7c2mVt0y0hQ2Zr8m2nM0Wc6m3JcQe3mB8b6JjQ1k',
  })
  refresh_token: string;

  @ApiProperty({
    type: 'integer',
    format: 'int32',
    // REFRESH_TOKEN_EXPIRE_DAYS: 1 to 365.
    minimum: 86_400,
    maximum: 31_536_000,
    description: 'Seconds until the refresh token expires.',
    example: 2592000,
  })
  refresh_expires_in: number;
}

/**
 * `POST /auth/refresh`, as JSON or as the OAuth2 form (`grant_type=refresh_token`);
 * `scope`, `client_id` and `client_secret` are accepted and ignored.
 */
@ApiSchema({ name: 'RefreshRequest' })
export class RefreshDto extends OAuth2ClientFields {
  @ApiProperty({
    description: 'The refresh token from POST /login or the last refresh.',
    minLength: 1,
    maxLength: 512,
    example: 'q8H7c2mVt0y0hQ2Zr8m2nM0Wc6m3JcQe3mB8b6JjQ1k',
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(512)
  refresh_token: string;

  @ApiPropertyOptional({
    enum: ['refresh_token'],
    description: 'Optional; when sent (OAuth2 form), it must be `refresh_token`.',
    example: 'refresh_token',
  })
  @IsOmittable()
  @IsIn(['refresh_token'], { message: 'grant_type must be refresh_token' })
  grant_type?: string;
}
