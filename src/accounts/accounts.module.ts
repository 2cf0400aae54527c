import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ActivityModule } from '../activity/activity.module';
import { MailModule } from '../mail/mail.module';
import { SessionsModule } from '../sessions/sessions.module';
import { AccountPagesController } from './account-pages.controller';
import { AccountToken } from './account-token.entity';
import { AccountTokens } from './account-tokens';
import { AccountsController } from './accounts.controller';
import { EmailVerificationService } from './email-verification.service';
import { PasswordResetRequest } from './password-reset-request.entity';
import { PasswordResetService } from './password-reset.service';

/**
 * Getting back into an account: e-mail verification and password reset, their tokens,
 * their mails and the pages behind the links. UsersModule uses the verification for
 * registrations and address changes.
 */
@Module({
  imports: [TypeOrmModule.forFeature([AccountToken, PasswordResetRequest]), MailModule, SessionsModule, ActivityModule],
  controllers: [AccountsController, AccountPagesController],
  providers: [AccountTokens, EmailVerificationService, PasswordResetService],
  exports: [EmailVerificationService],
})
export class AccountsModule {}
