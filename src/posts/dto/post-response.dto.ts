import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { UserResponseDto } from '../../users/dto/user-response.dto';

@ApiSchema({ name: 'Post' })
export class PostResponseDto {
  @ApiProperty({ example: 7, description: 'The post id.' })
  id: number;

  @ApiProperty({ example: 'Hello', description: 'The title, trimmed: 1 to 200 characters.' })
  title: string;

  @ApiProperty({ example: 'First post', description: 'The text: 1 to 20,000 characters.' })
  content: string;

  @ApiProperty({
    example: true,
    description: 'Whether other users see the post; drafts are visible to their owner only.',
  })
  published: boolean;

  @ApiProperty({ example: '2026-11-22T10:15:00.000Z', description: 'When the post was written (ISO 8601, UTC).' })
  created_at: string;

  @ApiProperty({ example: 1, description: 'The id of the author.' })
  owner_id: number;

  @ApiProperty({ type: UserResponseDto, description: 'The author.' })
  owner: UserResponseDto;

  @ApiProperty({ example: 3, description: 'How many votes the post has.' })
  votes: number;
}
