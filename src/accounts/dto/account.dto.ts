import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';
import { IsPassword } from '../../common/identity/password.validator';
import { IsEmailAddress } from '../../users/dto/create-user.dto';

/** The token of a link, as the mail carries it (43 characters; longer is never one of ours). */
const TOKEN_PROPERTY = {
  description: 'The token from the link in the mail (the value of its `token` parameter).',
  example: 'q3Xv7pJk2mYb0T9hZ1sW4eR6uI8oP5aL_cN-dF3gH2k',
  minLength: 1,
  maxLength: 256,
} as const;

@ApiSchema({ name: 'EmailVerification' })
export class VerifyEmailDto {
  @ApiProperty(TOKEN_PROPERTY)
  @IsString({ message: 'token must be a string' })
  @Length(1, 256, { message: 'token must be 1 to 256 characters' })
  token: string;
}

@ApiSchema({ name: 'PasswordResetRequest' })
export class PasswordResetRequestDto {
  @IsEmailAddress({ required: true, description: 'The e-mail address of the account.' })
  email: string;
}

@ApiSchema({ name: 'PasswordReset' })
export class PasswordResetConfirmDto {
  @ApiProperty(TOKEN_PROPERTY)
  @IsString({ message: 'token must be a string' })
  @Length(1, 256, { message: 'token must be 1 to 256 characters' })
  token: string;

  @ApiProperty({
    description: 'The new password: 8 to 72 bytes of UTF-8.',
    format: 'password',
    minLength: 8,
    // 72 bytes are at most 72 characters.
    maxLength: 72,
    example: 'tr0ub4dor and three more words',
  })
  @IsPassword()
  new_password: string;
}

@ApiSchema({ name: 'Accepted' })
export class AcceptedDto {
  @ApiProperty({
    description: 'What happens next, in words.',
    maxLength: 512,
    example: 'If an account uses this address, a mail with a link to choose a new password is on its way.',
  })
  message: string;
}
