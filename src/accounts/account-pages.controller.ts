import { Body, Controller, Get, HttpException, Inject, Post, Query, Res } from '@nestjs/common';
import { AUTH_CONFIG, type AuthConfig } from '../config/configuration';
import { ApiConsumes, ApiOperation, ApiProduces, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiProblemResponses, RATE_LIMIT_HEADERS } from '../common/api-problem';
import { AcceptsFormBody } from '../common/form-body.guard';
import type { ClientInfo } from '../common/identity/authenticated-user';
import { Client, Public } from '../common/identity/decorators';
import { passwordByteLength, PASSWORD_MAX_BYTES, PASSWORD_MIN_BYTES } from '../common/identity/password.validator';
import {
  badResetLinkPage,
  emailNotVerifiedPage,
  emailVerifiedPage,
  formAction,
  newPasswordFormPage,
  type Page,
  PAGE_HEADERS,
  passwordResetDonePage,
} from './account-pages';
import { EmailVerificationService } from './email-verification.service';
import { PasswordResetService } from './password-reset.service';

const HTML_PAGE = { 'text/html': { schema: { type: 'string', maxLength: 16_384 } } };
const TOKEN_QUERY = {
  name: 'token',
  required: true,
  description: 'The token of the link in the mail.',
  schema: { type: 'string', maxLength: 256, example: 'q3Xv7pJk2mYb0T9hZ1sW4eR6uI8oP5aL_cN-dF3gH2k' },
} as const;

/** A token as a page gets it: one string of sane length, else nothing. */
function tokenOf(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= 256 ? value : undefined;
}

/** Whether a service refused the token itself (400), as opposed to failing (the database is down). */
function isBadLink(error: unknown): boolean {
  return error instanceof HttpException && error.getStatus() === 400;
}

function send(reply: FastifyReply, page: Page): void {
  void reply.status(page.status).headers(PAGE_HEADERS).send(page.html);
}

/** The pages behind the links in mails: what a person who clicks one sees. */
@ApiTags('accounts')
@Controller('auth')
export class AccountPagesController {
  private readonly action: string;

  constructor(
    private readonly verification: EmailVerificationService,
    private readonly reset: PasswordResetService,
    @Inject(AUTH_CONFIG) config: AuthConfig,
  ) {
    this.action = formAction(config.publicUrl);
  }

  @Public()
  @Get('verify-email')
  @ApiOperation({
    operationId: 'accounts_verify_email_page',
    summary: 'The page of the verification link',
    description: 'An HTML page: verifies the address (as POST /auth/verify-email) and says the outcome in words.',
    security: [],
  })
  @ApiQuery(TOKEN_QUERY)
  @ApiProduces('text/html')
  @ApiResponse({
    status: 200,
    description: 'The address is verified.',
    content: HTML_PAGE,
    headers: RATE_LIMIT_HEADERS,
  })
  @ApiResponse({ status: 400, description: 'The link does not work.', content: HTML_PAGE, headers: RATE_LIMIT_HEADERS })
  @ApiProblemResponses(429, 503)
  async verifyEmailPage(
    @Query('token') token: unknown,
    @Client() client: ClientInfo,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const secret = tokenOf(token);
    if (!secret) {
      return send(reply, emailNotVerifiedPage());
    }
    try {
      await this.verification.verify(secret, client);
    } catch (error) {
      if (isBadLink(error)) {
        return send(reply, emailNotVerifiedPage());
      }
      throw error;
    }
    send(reply, emailVerifiedPage());
  }

  @Public()
  @Get('password-reset')
  @ApiOperation({
    operationId: 'accounts_password_reset_page',
    summary: 'The page of the password-reset link',
    description: 'An HTML page with a form for the new password (posted to POST /auth/password-reset/page).',
    security: [],
  })
  @ApiQuery(TOKEN_QUERY)
  @ApiProduces('text/html')
  @ApiResponse({ status: 200, description: 'The form.', content: HTML_PAGE, headers: RATE_LIMIT_HEADERS })
  @ApiResponse({ status: 400, description: 'The link does not work.', content: HTML_PAGE, headers: RATE_LIMIT_HEADERS })
  @ApiProblemResponses(429, 503)
  async passwordResetPage(@Query('token') token: unknown, @Res() reply: FastifyReply): Promise<void> {
    const secret = tokenOf(token);
    send(
      reply,
      secret && (await this.reset.isUsable(secret)) ? newPasswordFormPage(this.action, secret) : badResetLinkPage(),
    );
  }

  @Public()
  @AcceptsFormBody()
  @Post('password-reset/page')
  @ApiOperation({
    operationId: 'accounts_password_reset_form',
    summary: 'The form of the password-reset page',
    description:
      'What the page posts: `token`, `new_password` and `new_password_again` as a form. Answers an HTML page that ' +
      'says the outcome (POST /auth/password-reset/confirm is the same for a client of its own).',
    security: [],
  })
  @ApiConsumes('application/x-www-form-urlencoded')
  @ApiProduces('text/html')
  @ApiResponse({ status: 200, description: 'The password is set.', content: HTML_PAGE, headers: RATE_LIMIT_HEADERS })
  @ApiResponse({ status: 400, description: 'The link does not work.', content: HTML_PAGE, headers: RATE_LIMIT_HEADERS })
  @ApiResponse({
    status: 422,
    description: 'The form again, saying what to change.',
    content: HTML_PAGE,
    headers: RATE_LIMIT_HEADERS,
  })
  @ApiProblemResponses(413, 415, 429, 503)
  async submitNewPassword(
    @Body() body: unknown,
    @Client() client: ClientInfo,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const form = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const secret = tokenOf(form.token);
    if (!secret) {
      return send(reply, badResetLinkPage());
    }
    const password = form.new_password;
    if (
      typeof password !== 'string' ||
      passwordByteLength(password) < PASSWORD_MIN_BYTES ||
      passwordByteLength(password) > PASSWORD_MAX_BYTES
    ) {
      return send(
        reply,
        newPasswordFormPage(
          this.action,
          secret,
          `The password must be ${PASSWORD_MIN_BYTES} to ${PASSWORD_MAX_BYTES} bytes long; choose another.`,
        ),
      );
    }
    if (password.includes('\u0000')) {
      return send(reply, newPasswordFormPage(this.action, secret, 'The password must not contain a NUL character.'));
    }
    if (form.new_password_again !== password) {
      return send(
        reply,
        newPasswordFormPage(this.action, secret, 'The two passwords are not the same; type them again.'),
      );
    }
    try {
      await this.reset.confirm(secret, password, client);
    } catch (error) {
      if (isBadLink(error)) {
        return send(reply, badResetLinkPage());
      }
      throw error;
    }
    send(reply, passwordResetDonePage());
  }
}
