import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { ID_PROPERTY, TIMESTAMP_PROPERTY } from '../../common/api-problem';
import type { Session } from '../session.entity';

@ApiSchema({ name: 'Session' })
export class SessionResponseDto {
  @ApiProperty({ ...ID_PROPERTY, example: 3, description: 'The session id; DELETE /auth/sessions/{id} ends it.' })
  id: number;

  @ApiProperty({ ...TIMESTAMP_PROPERTY, example: '2026-11-22T10:15:00.000Z', description: 'When the login happened.' })
  created_at: string;

  @ApiProperty({
    ...TIMESTAMP_PROPERTY,
    example: '2026-11-22T10:45:00.000Z',
    description: 'The login or the last refresh.',
  })
  last_used_at: string;

  @ApiProperty({
    example: 'curl/8.5.0',
    nullable: true,
    type: String,
    maxLength: 512,
    description: 'The User-Agent header at login, if any (its first 512 characters).',
  })
  user_agent: string | null;

  @ApiProperty({
    example: '203.0.113.7',
    nullable: true,
    type: String,
    maxLength: 64,
    description: 'The client address at login.',
  })
  ip: string | null;

  @ApiProperty({ example: true, description: 'Whether this is the session of the token used for this request.' })
  current: boolean;

  static from(session: Session, currentSessionId: number | undefined): SessionResponseDto {
    return {
      id: session.id,
      created_at: session.createdAt.toISOString(),
      last_used_at: session.lastUsedAt.toISOString(),
      user_agent: session.userAgent,
      ip: session.ip,
      current: session.id === currentSessionId,
    };
  }
}
