import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';

/**
 * The OAuth2 password grant, as a form (what Swagger UI and the FastAPI original send)
 * or as JSON. `grant_type`, `scope`, `client_id` and `client_secret` are accepted and ignored.
 */
export class LoginDto {
  @ApiProperty({ description: 'The e-mail address of the account.', example: 'alice@example.com' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(1024)
  username: string;

  @ApiProperty({ description: 'The password.', example: 'correct horse battery staple', format: 'password' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(1024)
  password: string;

  @ApiPropertyOptional({ description: 'Ignored (OAuth2: "password").', example: 'password' })
  @IsOptional()
  @IsString()
  grant_type?: string;

  @ApiPropertyOptional({ description: 'Ignored.', example: '' })
  @IsOptional()
  @IsString()
  scope?: string;

  @ApiPropertyOptional({ description: 'Ignored.' })
  @IsOptional()
  @IsString()
  client_id?: string;

  @ApiPropertyOptional({ description: 'Ignored.' })
  @IsOptional()
  @IsString()
  client_secret?: string;
}

export class AccessTokenResponseDto {
  @ApiProperty({
    description: 'A JWT (HS256) to send as `Authorization: Bearer <access_token>`.',
    example: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIiwidXNlcl9pZCI6MX0.sig',
  })
  access_token: string;

  @ApiProperty({ enum: ['bearer'], example: 'bearer' })
  token_type: 'bearer';

  @ApiProperty({ description: 'Seconds until the access token expires.', example: 1800 })
  expires_in: number;
}
