import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiBearerAuthRequired, ApiProblemResponses, RATE_LIMIT_HEADERS } from '../common/api-problem';
import type { AuthenticatedUser, ClientInfo } from '../common/identity/authenticated-user';
import { Client, CurrentUser, Public } from '../common/identity/decorators';
import { badLinkException } from './account-tokens';
import { AcceptedDto, PasswordResetConfirmDto, PasswordResetRequestDto, VerifyEmailDto } from './dto/account.dto';
import { EmailVerificationService, RESENDS_PER_HOUR } from './email-verification.service';
import { PasswordResetService, RESET_REQUESTED_MESSAGE, RESET_REQUESTS_PER_HOUR } from './password-reset.service';

const RESEND_MESSAGE =
  'Unless your address is verified already, a mail with a new link is on its way to it; older links no longer work.';

@ApiTags('accounts')
@Controller('auth')
export class AccountsController {
  constructor(
    private readonly verification: EmailVerificationService,
    private readonly reset: PasswordResetService,
  ) {}

  @Public()
  @Post('verify-email')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'accounts_verify_email',
    summary: 'Verify your e-mail address with the token of the mail',
    description: 'What the page of the link (GET /auth/verify-email?token=...) does, for a client of its own.',
    security: [],
  })
  @ApiNoContentResponse({ description: 'The address is verified.', headers: RATE_LIMIT_HEADERS })
  @ApiProblemResponses(
    { status: 400, detail: badLinkException('email_verification').message },
    413,
    415,
    { status: 422, errors: [{ field: 'token', message: 'token must be a string' }] },
    429,
    503,
  )
  async verifyEmail(@Body() body: VerifyEmailDto, @Client() client: ClientInfo): Promise<void> {
    await this.verification.verify(body.token, client);
  }

  @Post('verify-email/resend')
  @HttpCode(202)
  @ApiOperation({
    operationId: 'accounts_resend_verification',
    summary: 'Send the verification mail again',
    description: `No mail when the address is verified already. At most ${RESENDS_PER_HOUR} requests an hour per account.`,
  })
  @ApiAcceptedResponse({ type: AcceptedDto, description: 'A mail will follow.', headers: RATE_LIMIT_HEADERS })
  @ApiProblemResponses(400, 413, 415, {
    status: 429,
    detail: `At most ${RESENDS_PER_HOUR} verification mails an hour can be asked for; try again in 3300 seconds.`,
    retryAfter: 3300,
  })
  // Below the route's own 429, so that the request limit's example does not replace it.
  @ApiBearerAuthRequired()
  async resendVerification(@CurrentUser() user: AuthenticatedUser, @Client() client: ClientInfo): Promise<AcceptedDto> {
    await this.verification.resend(user, client);
    return { message: RESEND_MESSAGE };
  }

  @Public()
  @Post('password-reset')
  @HttpCode(202)
  @ApiOperation({
    operationId: 'accounts_request_password_reset',
    summary: 'Ask for a mail to reset a forgotten password',
    description:
      'The same answer, in the same time, whether an account uses the address or not. For an account, a mail with ' +
      `a single-use link follows (a newer request makes older links stop working). At most ${RESET_REQUESTS_PER_HOUR} ` +
      'requests per address and hour.',
    security: [],
  })
  @ApiAcceptedResponse({
    type: AcceptedDto,
    description: 'A mail will follow if an account uses the address.',
    headers: RATE_LIMIT_HEADERS,
  })
  @ApiProblemResponses(
    400,
    413,
    415,
    { status: 422, errors: [{ field: 'email', message: 'email must be a valid e-mail address' }] },
    {
      status: 429,
      detail: `At most ${RESET_REQUESTS_PER_HOUR} password resets an hour can be asked for one address; try again in 3300 seconds.`,
      retryAfter: 3300,
    },
    503,
  )
  async requestPasswordReset(
    @Body() body: PasswordResetRequestDto,
    @Client() client: ClientInfo,
  ): Promise<AcceptedDto> {
    await this.reset.request(body.email, client);
    return { message: RESET_REQUESTED_MESSAGE };
  }

  @Public()
  @Post('password-reset/confirm')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'accounts_reset_password',
    summary: 'Set a new password with the token of the mail',
    description:
      'Every session of the account ends, the token is spent, and the address counts as verified. What the form of ' +
      'the page of the link (GET /auth/password-reset?token=...) does, for a client of its own.',
    security: [],
  })
  @ApiNoContentResponse({ description: 'The new password is set.', headers: RATE_LIMIT_HEADERS })
  @ApiProblemResponses(
    { status: 400, detail: badLinkException('password_reset').message },
    413,
    415,
    {
      status: 422,
      errors: [{ field: 'new_password', message: 'new_password must be 8 to 72 bytes of UTF-8 (it is 5 bytes)' }],
    },
    429,
    503,
  )
  async confirmPasswordReset(@Body() body: PasswordResetConfirmDto, @Client() client: ClientInfo): Promise<void> {
    await this.reset.confirm(body.token, body.new_password, client);
  }
}
