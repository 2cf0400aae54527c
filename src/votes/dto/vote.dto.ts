import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { IsIn, IsInt, Max, Min } from 'class-validator';
import { MAX_ID } from '../../common/validation.pipe';

@ApiSchema({ name: 'Vote' })
export class VoteDto {
  @ApiProperty({ description: 'The post to vote on.', example: 7, minimum: 1 })
  @IsInt({ message: 'post_id must be a positive integer' })
  @Min(1, { message: 'post_id must be a positive integer' })
  @Max(MAX_ID, { message: `post_id must be at most ${MAX_ID}` })
  post_id: number;

  @ApiProperty({ description: '1 adds your vote, 0 removes it.', enum: [0, 1], example: 1 })
  @IsIn([0, 1], { message: 'dir must be 0 (remove your vote) or 1 (add it)' })
  dir: 0 | 1;
}

@ApiSchema({ name: 'VoteResult' })
export class VoteResultDto {
  @ApiProperty({
    enum: ['Vote added', 'Vote removed'],
    example: 'Vote added',
    description: 'What happened: 201 "Vote added" or 200 "Vote removed".',
  })
  message: 'Vote added' | 'Vote removed';
}
