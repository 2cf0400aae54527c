import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { ID_PROPERTY, TIMESTAMP_PROPERTY } from '../../common/api-problem';
import { PageCursor, PageLimit } from '../../common/page-query';
import { ACTIVITY_TYPES, type ActivityEvent, type ActivityType } from '../activity-event.entity';

export class ActivityQueryDto {
  @PageLimit('events')
  limit: number = 20;

  @PageCursor()
  cursor?: string;
}

@ApiSchema({ name: 'Activity' })
export class ActivityResponseDto {
  @ApiProperty({
    type: 'integer',
    format: 'int64',
    minimum: 1,
    maximum: Number.MAX_SAFE_INTEGER,
    example: 42,
    description: 'The event id.',
  })
  id: number;

  @ApiProperty({ enum: ACTIVITY_TYPES, example: 'login', description: 'What happened.' })
  type: ActivityType;

  @ApiProperty({ ...TIMESTAMP_PROPERTY, example: '2026-11-22T10:15:00.000Z', description: 'When (ISO 8601, UTC).' })
  created_at: string;

  @ApiProperty({
    type: String,
    nullable: true,
    maxLength: 64,
    example: '203.0.113.7',
    description: 'The address of the request; null when an admin acted, or nothing came with a request.',
  })
  ip: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    maxLength: 512,
    example: 'Mozilla/5.0 (X11; Linux x86_64)',
    description: 'The user agent of the request; null when an admin acted or none was sent.',
  })
  user_agent: string | null;

  @ApiProperty({
    ...ID_PROPERTY,
    nullable: true,
    example: 7,
    description: 'The session it happened in (GET /auth/sessions lists the live ones); null when none.',
  })
  session_id: number | null;

  static from(event: ActivityEvent): ActivityResponseDto {
    return {
      id: Number(event.id),
      type: event.type,
      created_at: event.createdAt.toISOString(),
      ip: event.ip,
      user_agent: event.userAgent,
      session_id: event.sessionId,
    };
  }
}
