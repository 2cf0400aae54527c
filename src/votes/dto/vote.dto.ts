import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { ID_PROPERTY } from '../../common/api-problem';
import { IsIn, IsInt, Max, Min } from 'class-validator';
import { MAX_ID } from '../../common/validation.pipe';

@ApiSchema({ name: 'Vote' })
export class VoteDto {
  @ApiProperty({ ...ID_PROPERTY, description: 'The post to vote on.', example: 7 })
  @IsInt({ message: 'post_id must be a positive integer' })
  @Min(1, { message: 'post_id must be a positive integer' })
  @Max(MAX_ID, { message: `post_id must be at most ${MAX_ID}` })
  post_id: number;

  @ApiProperty({
    type: 'integer',
    format: 'int32',
    minimum: 0,
    maximum: 1,
    enum: [0, 1],
    description: '1 adds your vote, 0 removes it.',
    example: 1,
  })
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
