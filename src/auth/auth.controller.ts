import { Controller, Header, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblemResponses } from '../common/api-problem';
import type { AuthenticatedUser } from './authenticated-user';
import { AuthService } from './auth.service';
import { CurrentUser, Public } from './decorators';
import { AccessTokenResponseDto, LoginDto } from './dto/login.dto';
import { LocalAuthGuard } from './local-auth.guard';

@ApiTags('auth')
@Controller()
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Public()
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
      'Use the returned `access_token` as `Authorization: Bearer <access_token>`. An unknown e-mail and a wrong password get the same 401.',
  })
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiBody({ type: LoginDto })
  @ApiOkResponse({ type: AccessTokenResponseDto, description: 'The access token.' })
  @ApiProblemResponses(401, 422)
  login(@CurrentUser() user: AuthenticatedUser): Promise<AccessTokenResponseDto> {
    return this.auth.issueAccessToken(user);
  }
}
