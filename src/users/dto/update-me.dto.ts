import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';
import { IsOmittable } from '../../common/optional';
import { IsEmailAddress } from './create-user.dto';
import { IsUsername } from './username';

@ApiSchema({ name: 'AccountChanges' })
export class UpdateMeDto {
  @IsOmittable()
  @IsUsername({ required: false })
  username?: string;

  @IsOmittable()
  @IsEmailAddress({
    required: false,
    description:
      'A new e-mail address (rules as at registration). Needs `current_password`; the address counts as ' +
      'unverified until the link of the mail sent to it is opened.',
  })
  email?: string;

  @ApiProperty({
    description: 'The password now: required to change the e-mail address.',
    format: 'password',
    maxLength: 1024,
    required: false,
    example: 'correct horse battery staple',
  })
  @IsOmittable()
  @IsString({ message: 'current_password must be a string' })
  @IsNotEmpty({ message: 'current_password must not be empty' })
  @MaxLength(1024, { message: 'current_password must be at most 1024 characters' })
  current_password?: string;
}
