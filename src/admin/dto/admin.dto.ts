import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { IsIn, IsString } from 'class-validator';
import { TIMESTAMP_PROPERTY } from '../../common/api-problem';
import { CodePointLength } from '../../common/code-point-length';
import { IsOmittable } from '../../common/optional';
import { PageCursor, PageLimit } from '../../common/page-query';
import { MeResponseDto } from '../../users/dto/user-response.dto';
import type { User } from '../../users/user.entity';

export class ListUsersQueryDto {
  @PageLimit('users')
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

  @PageCursor()
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
