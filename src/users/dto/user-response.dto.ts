import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { ID_PROPERTY, TIMESTAMP_PROPERTY } from '../../common/api-problem';
import type { User } from '../user.entity';

/** What every view of a user shows. */
type UserFields = Pick<User, 'id' | 'email' | 'username' | 'createdAt'>;

/** A user as the API shows it: never a password or its hash. */
@ApiSchema({ name: 'User' })
export class UserResponseDto {
  @ApiProperty({ ...ID_PROPERTY, example: 1, description: 'The user id.' })
  id: number;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The handle, lower-case; null until the user sets one (PATCH /users/me).',
    example: 'alice',
    pattern: '^[a-z][a-z0-9_]{2,29}$',
    minLength: 3,
    maxLength: 30,
  })
  username: string | null;

  @ApiProperty({
    example: 'alice@example.com',
    format: 'email',
    maxLength: 254,
    description: 'The e-mail address, lower-case.',
  })
  email: string;

  @ApiProperty({
    ...TIMESTAMP_PROPERTY,
    example: '2026-11-22T10:15:00.000Z',
    description: 'When the account was created (ISO 8601, UTC).',
  })
  created_at: string;

  static from(user: UserFields): UserResponseDto {
    return { id: user.id, username: user.username, email: user.email, created_at: user.createdAt.toISOString() };
  }
}

/** The caller's own account: a user, with the role and whether the address is verified. */
@ApiSchema({ name: 'Me' })
export class MeResponseDto extends UserResponseDto {
  @ApiProperty({ enum: ['user', 'admin'], example: 'user', description: 'What the account may do.' })
  role: 'user' | 'admin';

  @ApiProperty({
    example: false,
    description: 'Whether the link of the verification mail to the current address was opened.',
  })
  email_verified: boolean;

  static fromAccount(user: UserFields & { role: 'user' | 'admin'; emailVerified: boolean }): MeResponseDto {
    return { ...UserResponseDto.from(user), role: user.role, email_verified: user.emailVerified };
  }
}
