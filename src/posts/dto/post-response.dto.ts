import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { ID_PROPERTY, TIMESTAMP_PROPERTY } from '../../common/api-problem';
import { MAX_ID } from '../../common/validation.pipe';
import { UserResponseDto } from '../../users/dto/user-response.dto';

@ApiSchema({ name: 'Post' })
export class PostResponseDto {
  @ApiProperty({ ...ID_PROPERTY, example: 7, description: 'The post id.' })
  id: number;

  @ApiProperty({
    example: 'Hello',
    minLength: 1,
    maxLength: 200,
    description: 'The title, trimmed: 1 to 200 characters.',
  })
  title: string;

  @ApiProperty({
    example: 'First post',
    minLength: 1,
    maxLength: 20000,
    description: 'The text: 1 to 20,000 characters.',
  })
  content: string;

  @ApiProperty({
    example: true,
    description: 'Whether other users see the post; drafts are visible to their owner only.',
  })
  published: boolean;

  @ApiProperty({
    ...TIMESTAMP_PROPERTY,
    example: '2026-11-22T10:15:00.000Z',
    description: 'When the post was written (ISO 8601, UTC).',
  })
  created_at: string;

  @ApiProperty({
    ...TIMESTAMP_PROPERTY,
    example: '2026-11-22T10:20:00.000Z',
    description:
      'When the title, content or published flag last changed (ISO 8601, UTC); equal to `created_at` until then. ' +
      'Votes and comments do not move it.',
  })
  updated_at: string;

  @ApiProperty({ ...ID_PROPERTY, example: 1, description: 'The id of the author.' })
  owner_id: number;

  @ApiProperty({ type: UserResponseDto, description: 'The author.' })
  owner: UserResponseDto;

  @ApiProperty({
    type: 'integer',
    format: 'int32',
    minimum: 0,
    // At most one vote per user, and user ids are PostgreSQL integers.
    maximum: MAX_ID,
    example: 3,
    description: 'How many votes the post has.',
  })
  votes: number;

  @ApiProperty({ example: false, description: 'Whether you (the caller) have voted for the post.' })
  voted: boolean;

  @ApiProperty({
    type: 'integer',
    format: 'int32',
    minimum: 0,
    // The counter column is a PostgreSQL integer.
    maximum: MAX_ID,
    example: 2,
    description: 'How many comments the post has (GET /posts/{id}/comments lists them).',
  })
  comments: number;
}
