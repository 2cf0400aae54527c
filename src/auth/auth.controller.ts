import { Body, Controller, Header, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiBearerAuthRequired, ApiProblemResponses, RATE_LIMIT_HEADERS } from '../common/api-problem';
import { AcceptsFormBody } from '../common/form-body.guard';
import { invalidRefreshTokenException, REFRESH_TOKEN_JUST_SPENT } from '../sessions/sessions.service';
import type { AuthenticatedUser, ClientInfo } from '../common/identity/authenticated-user';
import { ACCOUNT_DISABLED, AuthService, INVALID_CREDENTIALS } from './auth.service';
import { Client, CurrentUser, Public } from '../common/identity/decorators';
import { LoginDto, RefreshDto, TokenResponseDto } from './dto/login.dto';
import { LocalAuthGuard } from './local-auth.guard';

const TOKEN_CONTENT_TYPES = ['application/x-www-form-urlencoded', 'application/json'];

@ApiTags('auth')
@Controller()
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  @AcceptsFormBody()
  @UseGuards(LocalAuthGuard)
  @Post('login')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @ApiOperation({
    operationId: 'auth_login',
    summary: 'Log in with e-mail and password (OAuth2 password grant)',
    description:
      'Send `username` (the e-mail) and `password` as a form (`application/x-www-form-urlencoded`) or as JSON. ' +
      'Use the returned `access_token` as `Authorization: Bearer <access_token>`; renew it with the `refresh_token` at ' +
      'POST /auth/refresh. An unknown e-mail and a wrong password get the same 401. After too many failures for one ' +
      'e-mail from one address, or too many attempts from one address, the answer is 429 with `Retry-After`.',
    security: [],
  })
  @ApiConsumes(...TOKEN_CONTENT_TYPES)
  @ApiBody({ type: LoginDto })
  @ApiOkResponse({ type: TokenResponseDto, description: 'The tokens of a new session.', headers: RATE_LIMIT_HEADERS })
  @ApiProblemResponses(
    400,
    { status: 401, detail: INVALID_CREDENTIALS },
    { status: 403, detail: ACCOUNT_DISABLED },
    413,
    415,
    { status: 422, errors: [{ field: 'password', message: 'password is required' }] },
    {
      status: 429,
      detail: 'Too many failed logins for this account from your address; try again in 840 seconds.',
      retryAfter: 840,
    },
    503,
  )
  logIn(@CurrentUser() user: AuthenticatedUser, @Client() client: ClientInfo): Promise<TokenResponseDto> {
    return this.auth.logIn(user, client);
  }

  @Public()
  @AcceptsFormBody()
  @Post('auth/refresh')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @ApiOperation({
    operationId: 'auth_refresh',
    summary: 'Trade a refresh token for new tokens',
    description:
      'The refresh token is spent: keep the new one. Presenting a spent refresh token again within ' +
      'REFRESH_REUSE_GRACE_SECONDS (10) of its use answers 409 (another tab or a retry got there first; the session ' +
      'goes on); later, it is taken as theft and ends the whole session (401).',
    security: [],
  })
  @ApiConsumes(...TOKEN_CONTENT_TYPES)
  @ApiBody({ type: RefreshDto })
  @ApiOkResponse({
    type: TokenResponseDto,
    description: 'New tokens for the same session.',
    headers: RATE_LIMIT_HEADERS,
  })
  @ApiProblemResponses(
    400,
    { status: 401, detail: invalidRefreshTokenException().message },
    { status: 409, detail: REFRESH_TOKEN_JUST_SPENT },
    413,
    415,
    { status: 422, errors: [{ field: 'refresh_token', message: 'refresh_token is required' }] },
    429,
    503,
  )
  refresh(@Body() body: RefreshDto, @Client() client: ClientInfo): Promise<TokenResponseDto> {
    return this.auth.refresh(body.refresh_token, client);
  }

  @Post('auth/logout')
  @HttpCode(204)
  @ApiBearerAuthRequired()
  @ApiOperation({
    operationId: 'auth_logout',
    summary: 'End this session',
    description: 'Its refresh token and the access token used here stop working at once.',
  })
  @ApiNoContentResponse({ description: 'The session has ended.', headers: RATE_LIMIT_HEADERS })
  // No body is read, but a body that is sent must be JSON, and not too large.
  @ApiProblemResponses(400, 413, 415)
  logOut(@CurrentUser() user: AuthenticatedUser, @Client() client: ClientInfo): Promise<void> {
    return this.auth.logOut(user, client);
  }
}
