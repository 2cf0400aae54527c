import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';
import { IsPassword } from '../../common/identity/password.validator';

@ApiSchema({ name: 'PasswordChange' })
export class ChangePasswordDto {
  @ApiProperty({
    description: 'The password now.',
    format: 'password',
    maxLength: 1024,
    example: 'correct horse battery staple',
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(1024)
  current_password: string;

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

@ApiSchema({ name: 'AccountDeletion' })
export class DeleteAccountDto {
  @ApiProperty({
    description: 'The password, to confirm.',
    format: 'password',
    maxLength: 1024,
    example: 'correct horse battery staple',
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(1024)
  password: string;
}
