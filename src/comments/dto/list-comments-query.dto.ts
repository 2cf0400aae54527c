import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsString, Max, MaxLength, Min } from 'class-validator';
import { IsOmittable, toInteger } from '../../common/optional';

export class ListCommentsQueryDto {
  @ApiPropertyOptional({
    type: 'integer',
    format: 'int32',
    description: 'How many comments to return: 1 to 100.',
    default: 20,
    minimum: 1,
    maximum: 100,
    example: 20,
  })
  @IsOmittable()
  @Transform(toInteger)
  @IsInt({ message: 'limit must be an integer from 1 to 100' })
  @Min(1, { message: 'limit must be an integer from 1 to 100' })
  @Max(100, { message: 'limit must be an integer from 1 to 100' })
  limit: number = 20;

  @ApiPropertyOptional({
    description: 'Where to continue: copy it from the `rel="next"` URL of the `Link` header of the previous page.',
    example: 'aTQy',
    maxLength: 64,
  })
  @IsOmittable()
  @IsString({ message: 'cursor must be a single string' })
  @MaxLength(64, { message: 'cursor is not one this service issued; follow the URL of the Link header' })
  cursor?: string;
}
