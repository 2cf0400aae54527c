import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsString, Max, MaxLength, Min } from 'class-validator';
import { TIMESTAMP_PROPERTY } from '../../common/api-problem';
import { CodePointLength } from '../../common/code-point-length';
import { IsOmittable, toInteger } from '../../common/optional';
import { MeResponseDto } from '../../users/dto/user-response.dto';
import type { User } from '../../users/user.entity';

export class ListUsersQueryDto {
  @ApiPropertyOptional({
    type: 'integer',
    format: 'int32',
    description: 'How many users to return: 1 to 100.',
    default: 20,
    minimum: 1,
    maximum: 100,
    example: 20,
  })
  @IsOmittable()
  @Transform(toInteger)
  @IsInt({ message: 'limit must be an integer from 1 to 100' })
  @Min(1, { message: 'limit must be an integer from 1 to 100' })
  @Max(100, { message: 'limit must be an integer from 1 to 100' })
  limit: number = 20;

  @ApiPropertyOptional({
    description:
      'Only users whose e-mail or username contains this text, in any case; `%` and `_` are plain characters.',
    example: 'alice',
    maxLength: 254,
  })
  @IsOmittable()
  @IsString({ message: 'search must be a single string' })
  @CodePointLength(0, 254, { message: 'search must be at most 254 characters' })
  search: string = '';

  @ApiPropertyOptional({
    description: 'Where to continue: copy it from the `rel="next"` URL of the `Link` header of the previous page.',
    example: 'aTQy',
    maxLength: 64,
  })
  @IsOmittable()
  @IsString({ message: 'cursor must be a single string' })
  @MaxLength(64, { message: 'cursor is not one this service issued; follow the URL of the Link header' })
  cursor?: string;
}

@ApiSchema({ name: 'RoleChange' })
export class RoleChangeDto {
  @ApiProperty({ enum: ['user', 'admin'], example: 'admin', description: 'The new role of the account.' })
  @IsIn(['user', 'admin'], { message: 'role must be user or admin' })
  role: 'user' | 'admin';
}

/** An account as the admins see it: its `Me`, and whether it is disabled. */
@ApiSchema({ name: 'AdminUser' })
export class AdminUserResponseDto extends MeResponseDto {
  @ApiProperty({
    ...TIMESTAMP_PROPERTY,
    type: String,
    nullable: true,
    example: null,
    description: 'When an admin disabled the account (it cannot log in); null while it is enabled.',
  })
  disabled_at: string | null;

  static fromUser(user: User): AdminUserResponseDto {
    return {
      ...MeResponseDto.fromAccount({ ...user, emailVerified: user.emailVerifiedAt !== null }),
      disabled_at: user.disabledAt?.toISOString() ?? null,
    };
  }
}
