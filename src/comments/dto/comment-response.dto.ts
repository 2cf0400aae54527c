import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { ID_PROPERTY, TIMESTAMP_PROPERTY } from '../../common/api-problem';
import { UserResponseDto } from '../../users/dto/user-response.dto';
import type { CommentViewRow } from '../comments.queries';
import { MAX_COMMENT_LENGTH } from './comment-input.dto';

@ApiSchema({ name: 'Comment' })
export class CommentResponseDto {
  @ApiProperty({ ...ID_PROPERTY, example: 12, description: 'The comment id.' })
  id: number;

  @ApiProperty({ ...ID_PROPERTY, example: 7, description: 'The id of the post it comments on.' })
  post_id: number;

  @ApiProperty({
    example: 'Nice post!',
    minLength: 1,
    maxLength: MAX_COMMENT_LENGTH,
    description: 'The text, trimmed: 1 to 2,000 characters.',
  })
  content: string;

  @ApiProperty({
    ...TIMESTAMP_PROPERTY,
    example: '2026-11-22T10:15:00.000Z',
    description: 'When the comment was written (ISO 8601, UTC).',
  })
  created_at: string;

  @ApiProperty({
    ...TIMESTAMP_PROPERTY,
    example: '2026-11-22T10:20:00.000Z',
    description: 'When its text last changed (ISO 8601, UTC); equal to `created_at` until then.',
  })
  updated_at: string;

  @ApiProperty({ type: UserResponseDto, description: 'Who wrote it.' })
  author: UserResponseDto;

  static from(row: CommentViewRow): CommentResponseDto {
    return {
      id: row.id,
      post_id: row.post_id,
      content: row.content,
      created_at: row.created_at.toISOString(),
      updated_at: row.updated_at.toISOString(),
      author: {
        id: row.author_id,
        username: row.author_username,
        email: row.author_email,
        created_at: row.author_created_at.toISOString(),
      },
    };
  }
}
