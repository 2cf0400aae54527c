import { ApiProperty } from '@nestjs/swagger';
import { UserResponseDto } from '../../users/dto/user-response.dto';

export class PostResponseDto {
  @ApiProperty({ example: 7 })
  id: number;

  @ApiProperty({ example: 'Hello' })
  title: string;

  @ApiProperty({ example: 'First post' })
  content: string;

  @ApiProperty({ example: true })
  published: boolean;

  @ApiProperty({ example: '2026-11-22T10:15:00.000Z' })
  created_at: string;

  @ApiProperty({ example: 1, description: 'The id of the author.' })
  owner_id: number;

  @ApiProperty({ type: UserResponseDto, description: 'The author.' })
  owner: UserResponseDto;

  @ApiProperty({ example: 3, description: 'How many votes the post has.' })
  votes: number;
}
