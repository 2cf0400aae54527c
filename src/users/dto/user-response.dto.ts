import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { ID_PROPERTY, TIMESTAMP_PROPERTY } from '../../common/api-problem';
import type { User } from '../user.entity';

/** A user as the API shows it: never a password or its hash. */
@ApiSchema({ name: 'User' })
export class UserResponseDto {
  @ApiProperty({ ...ID_PROPERTY, example: 1, description: 'The user id.' })
  id: number;

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

  static from(user: Pick<User, 'id' | 'email' | 'createdAt'>): UserResponseDto {
    return { id: user.id, email: user.email, created_at: user.createdAt.toISOString() };
  }
}
